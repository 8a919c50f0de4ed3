/**
 * Base for every objection model. Always query through `Model.query(db)` with the knex of
 * the current app or transaction: models are never bound to a global knex, so several
 * databases (SQLite and PostgreSQL in one test run) can live in one process.
 */
import { Model, type Pojo } from 'objection';
import { toIso } from '../db/time';

export class BaseModel extends Model {
  /**
   * `first()` / `findOne()` add LIMIT 1. Objection's default fetches every matching row and
   * keeps the first: with 2,000 receipts queued, the printer's "oldest queued" read parsed them all.
   */
  static override useLimitInFirst = true;
  /** Columns holding timestamps; read back as ISO-8601 UTC strings on both databases. */
  static timestampColumns: string[] = [];
  /** Columns holding booleans (SQLite returns 0/1). */
  static booleanColumns: string[] = [];

  override $parseDatabaseJson(json: Pojo): Pojo {
    const parsed = super.$parseDatabaseJson(json);
    const ctor = this.constructor as typeof BaseModel;
    for (const c of ctor.timestampColumns) if (c in parsed) parsed[c] = toIso(parsed[c]);
    for (const c of ctor.booleanColumns) if (c in parsed && parsed[c] !== null) parsed[c] = Boolean(parsed[c]);
    return parsed;
  }
}
