import {
  Arg, Args, Authorized, Ctx, Field, Float, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, Root, Subscription,
} from 'type-graphql';
import { GraphQLSafeInt } from 'graphql-scalars';
import { requireScope } from '../auth/scopes';
import type { GraphQLContext } from '../graphql/context';
import { PageArgsGql, toConnection } from '../graphql/connection';
import { parseId } from '../graphql/ids';
import { DateTimeScalar } from '../graphql/scalars';
import { Receipt, ReceiptConnection, ReceiptStatus } from '../graphql/types';
import * as kkt from '../services/kkt';
import * as receipts from '../services/receipts';
import type { ReceiptInput } from '../services/receipt-input';

@InputType()
export class ReceiptFilter {
  @Field(() => ReceiptStatus, { nullable: true }) status?: ReceiptStatus | null;
  @Field(() => Int, { nullable: true, description: "The register's shift the receipt was printed in" }) shiftNumber?: number | null;
  @Field(() => DateTimeScalar, { nullable: true, description: 'Accepted at or after this instant' }) createdFrom?: string | null;
  @Field(() => DateTimeScalar, { nullable: true, description: 'Accepted before this instant' }) createdBefore?: string | null;
}

@InputType({ description: 'One line of a receipt' })
export class ReceiptItemInput {
  @Field(() => String, { description: 'Printed name, at most 128 bytes in CP1251' }) name!: string;
  @Field(() => GraphQLSafeInt, { description: 'Unit price in kopecks' }) priceMinor!: number;
  @Field(() => Float, { description: 'Up to 6 decimals, e.g. 0.35 (kg)' }) quantity!: number;
  @Field(() => String, { description: 'vat22 | vat20 | vat10 | vat7 | vat5 | vat0 | none | vat22_122 | vat20_120 | vat10_110 | vat7_107 | vat5_105' })
  vat!: string;
  @Field(() => String, { nullable: true, description: 'Tag 1214, default full_payment' }) paymentMethod?: string | null;
  @Field(() => String, { nullable: true, description: 'Tag 1212, default commodity' }) paymentSubject?: string | null;
  @Field(() => String, { nullable: true, description: 'Tag 2108 (FFD 1.2), e.g. piece, kilogram' }) unit?: string | null;
  @Field(() => Int, { nullable: true, description: 'Register department 0…16' }) department?: number | null;
}

@InputType()
export class ReceiptPaymentInput {
  @Field(() => String, { description: 'cash | electronic | prepaid | credit | counter_provision' }) type!: string;
  @Field(() => GraphQLSafeInt) amountMinor!: number;
}

@InputType({ description: 'A receipt to fiscalise; clientUuid makes the call idempotent' })
export class ReceiptInputGql {
  @Field(() => String) clientUuid!: string;
  @Field(() => String, { nullable: true, description: 'sale (default) | sale_return | purchase | purchase_return' }) operation?: string | null;
  @Field(() => String, { description: 'osn | usn_income | usn_income_outcome | eshn | patent' }) taxSystem!: string;
  @Field(() => [ReceiptItemInput]) items!: ReceiptItemInput[];
  @Field(() => [ReceiptPaymentInput]) payments!: ReceiptPaymentInput[];
  @Field(() => String, { nullable: true, description: 'E-mail or phone for the electronic receipt (tag 1008)' }) customerContact?: string | null;
  @Field(() => String, { nullable: true, description: 'Tag 1021' }) cashierName?: string | null;
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'If given, must equal the sum of the items' }) totalMinor?: number | null;
}

@ObjectType()
export class CreateReceiptPayload {
  @Field(() => Receipt) receipt!: Receipt;
  @Field(() => Boolean, { description: 'true: this clientUuid was submitted before; the first receipt is returned unchanged' })
  duplicate!: boolean;
}

@ObjectType()
export class RegisterBreaker {
  @Field(() => String, { description: 'closed | open | half_open' }) state!: string;
  @Field(() => Int) consecutiveFailures!: number;
  @Field(() => DateTimeScalar, { nullable: true }) retryAt!: string | null;
}

@ObjectType()
export class RegisterError {
  @Field(() => Int, { nullable: true }) code!: number | null;
  @Field(() => String) text!: string;
  @Field(() => DateTimeScalar) at!: string;
}

@ObjectType()
export class ReceiptQueueCounts {
  @Field(() => Int) queued!: number;
  @Field(() => Int) printing!: number;
  @Field(() => Int) fiscalised!: number;
  @Field(() => Int) dead!: number;
  @Field(() => Int) cancelled!: number;
}

@ObjectType({ description: 'The fiscal register and its receipt queue' })
export class CashRegister {
  @Field(() => Boolean, { description: 'false: no register configured; receipts wait in the queue' }) configured!: boolean;
  @Field(() => String, { description: 'starting | ready | offline | operator_needed | hard_fault | stopped | not_configured' }) state!: string;
  @Field(() => RegisterBreaker, { nullable: true }) breaker!: RegisterBreaker | null;
  @Field(() => RegisterError, { nullable: true }) lastError!: RegisterError | null;
  @Field(() => String, { nullable: true }) fnSerial!: string | null;
  @Field(() => Int, { nullable: true }) shiftNumber!: number | null;
  @Field(() => Boolean, { nullable: true }) shiftOpen!: boolean | null;
  @Field(() => DateTimeScalar, { nullable: true }) shiftOpenedAt!: string | null;
  @Field(() => DateTimeScalar, { nullable: true, description: 'When the shift will be closed automatically' }) shiftCloseDueAt!: string | null;
  @Field(() => GraphQLSafeInt, { nullable: true }) lastFiscalDocumentNumber!: number | null;
  @Field(() => ReceiptQueueCounts) queue!: ReceiptQueueCounts;
}

@ObjectType()
export class ShiftClosed {
  @Field(() => Int) shiftNumber!: number;
  @Field(() => GraphQLSafeInt) fiscalDocumentNumber!: number;
}

@Resolver()
export class ReceiptsResolver {
  @Authorized('receipts')
  @Query(() => ReceiptConnection, { description: 'Fiscal receipts, newest first' })
  async receipts(
    @Ctx() ctx: GraphQLContext,
    @Args(() => PageArgsGql) page: PageArgsGql,
    @Arg('filter', () => ReceiptFilter, { nullable: true }) filter?: ReceiptFilter,
  ) {
    return toConnection(ReceiptConnection, await receipts.listReceipts(ctx.services, filter ?? {}, page));
  }

  @Authorized('receipts')
  @Query(() => Receipt)
  receipt(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { nullable: true }) id?: string,
    @Arg('clientUuid', () => String, { nullable: true }) clientUuid?: string,
  ) {
    return receipts.getReceipt(ctx.services, { id: parseId(id, 'id'), clientUuid });
  }

  @Authorized('receipts')
  @Query(() => CashRegister, { description: 'State of the fiscal register, its shift and the receipt queue' })
  cashRegister(@Ctx() ctx: GraphQLContext) {
    return kkt.registerStatus(ctx.services);
  }

  @Authorized('receipts')
  @Mutation(() => CreateReceiptPayload, {
    description: 'Queue a receipt for fiscalisation. Stored durably before the answer; printed in order, exactly once.',
  })
  async createReceipt(@Ctx() ctx: GraphQLContext, @Arg('input', () => ReceiptInputGql) input: ReceiptInputGql) {
    return receipts.createReceipt(ctx.services, input as unknown as ReceiptInput);
  }

  @Authorized('receipts')
  @Mutation(() => Receipt, { description: 'Put a dead receipt back in the queue' })
  retryReceipt(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { nullable: true }) id?: string,
    @Arg('clientUuid', () => String, { nullable: true }) clientUuid?: string,
  ) {
    return receipts.retryReceipt(ctx.services, { id: parseId(id, 'id'), clientUuid });
  }

  @Authorized('receipts')
  @Mutation(() => Receipt, { description: 'Withdraw a queued or dead receipt; it will never be printed' })
  cancelReceipt(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID, { nullable: true }) id?: string,
    @Arg('clientUuid', () => String, { nullable: true }) clientUuid?: string,
  ) {
    return receipts.cancelReceipt(ctx.services, { id: parseId(id, 'id'), clientUuid });
  }

  @Authorized('receipts')
  @Mutation(() => ShiftClosed, { description: 'Close the register’s shift (Z report) between receipts' })
  closeShift(@Ctx() ctx: GraphQLContext) {
    return kkt.closeShift(ctx.services);
  }

  @Authorized('receipts')
  @Subscription(() => Receipt, {
    description:
      'Receipt status changes. With id or clientUuid: that receipt’s current state, then each change until it is fiscalised or cancelled. Without: every receipt’s changes.',
    subscribe: ({ args, context }) => {
      requireScope((context as GraphQLContext).principal, 'receipts');
      const a = args as { id?: string; clientUuid?: string };
      return receipts.watchReceipts((context as GraphQLContext).services, { id: parseId(a.id, 'id'), clientUuid: a.clientUuid });
    },
  })
  receiptUpdated(
    @Root() r: Receipt,
    @Arg('id', () => ID, { nullable: true }) _id?: string,
    @Arg('clientUuid', () => String, { nullable: true }) _clientUuid?: string,
  ): Receipt {
    return r;
  }
}
