/**
 * Wire contract of the Logikal REST API ("MBIOE Service", Swagger 2.0, info.version 12.2.6.59,
 * basePath /api/v3) — only the operations a read-only sync needs. Names and casing are exactly
 * as on the wire (camelCase); see /work/shared/reference/logikal.md §a and logikal-swagger.json.
 *
 * - Ids of projects, phases and elevations are GUID strings (lower-case, hyphenated as returned).
 *   Directories have no id: they are addressed by `path` (full path from the project-centre root,
 *   segments joined with `/`).
 * - Dates (`createdDate`, `changedDate`) are uint64 **Unix epoch seconds**.
 * - Every project may carry a default phase whose id is NULL_GUID; the same value in every project.
 */
import { NULL_GUID } from '../../db/time';

export { NULL_GUID };

/** Base path of every operation; a base URL is `<scheme>://<host>[:port]/api/v3`. */
export const LOGIKAL_BASE_PATH = '/api/v3';

// ---------------------------------------------------------------------------------------------
// Envelopes

/** `SuccessfulResponseSchema`: select operations and `DELETE /auth` answer with no `data`. */
export interface SuccessEnvelope {
  hints: string[];
  warnings: string[];
}

/** `SuccessfulResponseSchemaWithData<T>`: the payload sits in `data`. */
export interface DataEnvelope<T> extends SuccessEnvelope {
  data: T;
}

/**
 * `ErrorResponseSchema` (same shape as `RestResponse`). The human-readable reason is in
 * `errors[0]` (observed); `message` and `code` carry less.
 */
export interface ErrorEnvelope {
  message: string;
  code: number;
  hints: string[];
  warnings: string[];
  errors: string[];
}

// ---------------------------------------------------------------------------------------------
// Request bodies

/** `POST /auth`. `erp` is undocumented; both real clients always sent `true`. */
export interface LoginData {
  username: string;
  password: string;
  erp?: boolean;
}

/** `POST /directories/select`: `identifier` is the directory's `path` (not a GUID). */
export interface DirectorySelectionData {
  identifier: string;
}

/** `POST /projects/select`, `/phases/select`, `/elevations/select`: `identifier` is the GUID. */
export interface SelectionData {
  identifier: string;
}

// ---------------------------------------------------------------------------------------------
// Response payloads (`data`)

/** `POST /auth` → `data`. The token is sent back as `Authorization: Bearer <token>`. */
export interface SessionData {
  username: string;
  token: string;
}

export interface VersionDataData {
  name: string;
  version: string;
  description: string;
}

/** `GET /version` (unauthenticated) → `data`. */
export interface ProgramInformationData {
  componentVersions: VersionDataData[];
}

/** `GET /directories` → `data[]`: the sub-directories of the selected directory (root after login). */
export interface DirectoryData {
  name: string;
  path: string;
}

/** `GET /projects` → `data[]`; `GET /projects/selected` → `data`. There is no `description`. */
export interface ProjectData {
  id: string;
  name: string;
  /** Unix epoch seconds. */
  createdDate: number;
  /** Unix epoch seconds. */
  changedDate: number;
  isDeleted: boolean;
  /** Zero-padded 10 digits in real data, e.g. `0000003948`. */
  jobNumber: string;
  offerNumber: string;
  /** May carry a trailing space in real data. */
  personInCharge: string;
  estimated: boolean;
}

/** `GET /phases` → `data[]`. No dates. The default phase's id is NULL_GUID. */
export interface PhaseData {
  id: string;
  name: string;
  description: string;
}

export interface SurfaceDataData {
  name: string;
  colorInside: string;
  colorOutside: string;
}

/** `GET /elevations` → `data[]` (the elevations of the selected phase). */
export interface ElevationData {
  id: string;
  /** Changes with every edit: a cheap change-detection key. */
  versionId: string;
  name: string;
  /** Piece count [inference]. */
  amount: number;
  isInRecycleBin: boolean;
  automaticDescription: string;
  systemDescription: string;
  modelDescription: string;
  userDescription: string;
  surfaceOfBaseElement: SurfaceDataData;
  surfaceOfInsertions: SurfaceDataData;
  createdByUser: string;
  /** Unix epoch seconds. */
  createdDate: number;
  /** Unix epoch seconds. */
  changedDate: number;
  /** Millimetres. */
  width: number;
  /** Millimetres. */
  height: number;
  isElementPricelistElevation: boolean;
  elementPricelistId: string;
  type: string;
  state: string;
}

// ---------------------------------------------------------------------------------------------
// Thumbnails: all six query parameters are required strings.

export type ThumbnailFormat = 'PNG' | 'JPG' | 'EMF';
export type ThumbnailView = 'Interior' | 'Exterior';

export interface ThumbnailQuery {
  width: string;
  height: string;
  format: ThumbnailFormat;
  view: ThumbnailView;
  withdimensions: 'true' | 'false';
  withdescription: 'true' | 'false';
}

// ---------------------------------------------------------------------------------------------
// Session states and the spec's 405 texts

/** The server-side context of a session. The root of the project centre is a directory state. */
export type ContextState = 'directory' | 'project' | 'phase' | 'elevation';

/** The exact 405 reason texts of the spec, by the state the operation requires. */
export const WRONG_STATE_TEXT: Record<ContextState, string> = {
  directory: 'This operation expects the session to be in a directory.',
  project: 'This operation expects the session to be in a project.',
  phase: 'This operation expects the session to be in a phase.',
  elevation: 'This operation expects the session to be in an elevation.',
};

/** The observed 409 reason of `POST /directories/select` from project state or deeper. */
export function invalidMappingText(identifier: string): string {
  return `The requested resource '${identifier}' cannot be set, because it isn't valid in the current mapping.`;
}
