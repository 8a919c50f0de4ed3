/**
 * Relation fields. Each goes through a per-request DataLoader, so a query costs one SQL
 * statement per nesting level however many rows it returns.
 */
import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { NULL_GUID } from '../db/time';
import type { GraphQLContext } from '../graphql/context';
import {
  DailySales, Department, Directory, Elevation, ElevationGlass, ElevationPart, Forecast, MarketplaceMapping,
  ModelVersion, Phase, Product, Project, Receipt, ReceiptAttempt, StockLevel, SyncEvent, SyncRun,
} from '../graphql/types';


@Resolver(() => Directory)
export class DirectoryRelations {
  @FieldResolver(() => Directory, { nullable: true })
  parent(@Root() d: Directory, @Ctx() ctx: GraphQLContext) {
    return d.parentId == null ? null : ctx.loaders.directory.load(d.parentId);
  }
  @FieldResolver(() => [Project])
  projects(@Root() d: Directory, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.projectsOfDirectory.load(d.id);
  }
}

@Resolver(() => Project)
export class ProjectRelations {
  @FieldResolver(() => Directory, { nullable: true })
  directory(@Root() p: Project, @Ctx() ctx: GraphQLContext) {
    return p.directoryId == null ? null : ctx.loaders.directory.load(p.directoryId);
  }
  @FieldResolver(() => [Phase])
  phases(@Root() p: Project, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.phasesOfProject.load(p.id);
  }
}

@Resolver(() => Phase)
export class PhaseRelations {
  @FieldResolver(() => Boolean, { description: 'True for Logikal’s default (null-GUID) phase' })
  isDefault(@Root() p: Phase) {
    return p.logikalId === NULL_GUID;
  }
  @FieldResolver(() => Project)
  project(@Root() p: Phase, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.project.load(p.projectId);
  }
  @FieldResolver(() => [Elevation])
  elevations(@Root() p: Phase, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.elevationsOfPhase.load(p.id);
  }
}

@Resolver(() => Elevation)
export class ElevationRelations {
  @FieldResolver(() => Phase)
  phase(@Root() e: Elevation, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.phase.load(e.phaseId);
  }
  @FieldResolver(() => [ElevationGlass])
  glass(@Root() e: Elevation, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.glassOfElevation.load(e.id);
  }
  @FieldResolver(() => [ElevationPart])
  parts(@Root() e: Elevation, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.partsOfElevation.load(e.id);
  }
}

@Resolver(() => Department)
export class DepartmentRelations {
  @FieldResolver(() => Department, { nullable: true })
  parent(@Root() d: Department, @Ctx() ctx: GraphQLContext) {
    return d.parentId == null ? null : ctx.loaders.department.load(d.parentId);
  }
  @FieldResolver(() => [Department])
  children(@Root() d: Department, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.childrenOfDepartment.load(d.id);
  }
}

@Resolver(() => DailySales)
export class DailySalesRelations {
  @FieldResolver(() => Department, { nullable: true })
  department(@Root() s: DailySales, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.department.load(s.departmentId);
  }
}

@Resolver(() => Product)
export class ProductRelations {
  @FieldResolver(() => [StockLevel])
  stock(@Root() p: Product, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.stockOfProduct.load(p.id);
  }
  @FieldResolver(() => [MarketplaceMapping])
  marketplaces(@Root() p: Product, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.mappingsOfProduct.load(p.id);
  }
}

@Resolver(() => Receipt)
export class ReceiptRelations {
  @FieldResolver(() => [ReceiptAttempt])
  attempts(@Root() r: Receipt, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.attemptsOfReceipt.load(r.id);
  }
}

@Resolver(() => Forecast)
export class ForecastRelations {
  @FieldResolver(() => Department, { nullable: true })
  department(@Root() f: Forecast, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.department.load(f.departmentId);
  }
  @FieldResolver(() => ModelVersion, { nullable: true })
  modelVersion(@Root() f: Forecast, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.modelVersion.load(f.modelVersionId);
  }
}

@Resolver(() => SyncRun)
export class SyncRunRelations {
  @FieldResolver(() => [SyncEvent])
  events(@Root() r: SyncRun, @Ctx() ctx: GraphQLContext) {
    return ctx.loaders.eventsOfRun.load(r.id);
  }
}

export const relationResolvers = [
  DirectoryRelations, ProjectRelations, PhaseRelations, ElevationRelations, DepartmentRelations,
  DailySalesRelations, ProductRelations, ReceiptRelations, ForecastRelations, SyncRunRelations,
] as const;
