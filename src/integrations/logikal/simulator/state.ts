/**
 * The simulator's sessions and their context state machine (logikal.md §b.1), free of HTTP:
 * every operation takes the session and the request input and returns a Reply.
 *
 *   login ─► ROOT(directory) ─select dir─► DIRECTORY … ─select project─► PROJECT ─select phase─► PHASE ─select elevation─► ELEVATION
 *
 * There is no way up: only a new session starts again at the root.
 *
 * Choices where the real server's behaviour is unknown (each documented where it is made):
 * - GET /directories outside directory state → 405 "…in a directory" (the spec's reading; a
 *   comment in the Odoo client claims it silently moves the session back — not modelled).
 * - GET /phases: project state only (405 "…in a project" from phase/elevation state).
 * - GET /elevations: phase state only (405 "…in a phase" from elevation state).
 * - Thumbnail of an elevation that is not in the selected phase → 400 (the spec declares 400
 *   "can't be performed on the requested object" and no 404 for thumbnails).
 * - Thumbnails are rendered as PNG only; format JPG/EMF → 400 (a simulator limitation).
 * - Licence seats: a login beyond `maxSessions` live sessions → 409 with
 *   errors ["No free licence available: <n> of <n> API sessions in use."] — UNVERIFIED: no limit
 *   or refusal was ever observed on a real server (§b.4).
 * - 404 texts and `message`/`code` of error envelopes are plausible, not observed; the observed
 *   reason always sits in `errors[0]`.
 */
import { randomUUID } from 'node:crypto';
import {
  WRONG_STATE_TEXT,
  invalidMappingText,
  type ContextState,
  type DirectoryData,
  type ErrorEnvelope,
  type SessionData,
} from '../contract';
import { childrenOf, findDirectory, projectsOf, type SimDataset, type SimElevation, type SimPhase, type SimProject } from './dataset';
import { PartsListCache } from './parts-lists';
import { renderElevationPng } from './png';

export interface Reply {
  status: number;
  body: Buffer;
  contentType: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export function okReply(data?: unknown): Reply {
  const env = data === undefined ? { hints: [], warnings: [] } : { data, hints: [], warnings: [] };
  return { status: 200, body: Buffer.from(JSON.stringify(env)), contentType: JSON_TYPE };
}

const MESSAGES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function errorReply(status: number, reason: string): Reply {
  const env: ErrorEnvelope = { message: MESSAGES[status] ?? 'Error', code: status, hints: [], warnings: [], errors: [reason] };
  return { status, body: Buffer.from(JSON.stringify(env)), contentType: JSON_TYPE };
}

export const TEXT = {
  badRequest: 'The request is in an invalid format or is missing required properties.',
  badCredentials: 'Authentication failed. Invalid username or password.',
  invalidSession: 'Invalid session authentication identifier.',
  notFound: (id: string) => `The requested resource '${id}' could not be selected because it was not found.`,
  /** UNVERIFIED wording and status (409): see the module comment. */
  noLicence: (inUse: number, max: number) => `No free licence available: ${inUse} of ${max} API sessions in use.`,
};

export interface SimSession {
  token: string;
  username: string;
  state: ContextState;
  /** Selected directory path; '' = the root of the project centre. */
  dir: string;
  projectId: string | null;
  phaseId: string | null;
  elevationId: string | null;
  lastSeen: number;
}

export interface MachineOptions {
  credentials: { username: string; password: string };
  maxSessions: number;
  allowSiblingElevationSelect: boolean;
  allowPhaseReselect: boolean;
  directorySelect: 'any' | 'stepwise';
  sessionTtlMs: number;
}

const GUID_RE = /^\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?$/i;

/** .NET's Guid parser accepts braces and either case; ids compare lower-case. */
function parseGuid(v: unknown): string | undefined {
  return typeof v === 'string' && GUID_RE.test(v) ? v.replace(/[{}]/g, '').toLowerCase() : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** a is the root, b itself, or an ancestor of b. */
function isAncestorOrSelf(a: string, b: string): boolean {
  return a === '' || a === b || b.startsWith(`${a}/`);
}

function parentPath(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

export class LogikalMachine {
  readonly sessions = new Map<string, SimSession>();
  readonly partsLists = new PartsListCache();
  private readonly thumbs = new Map<string, Buffer>();
  peakSessions = 0;
  logins = 0;
  logouts = 0;
  loginRefusals = 0;
  expiredSessions = 0;
  partsListDownloads = 0;
  thumbnailDownloads = 0;

  constructor(
    public dataset: SimDataset,
    public readonly opts: MachineOptions,
  ) {}

  // -------------------------------------------------------------------------------------------
  // Sessions

  /** Drops idle-expired sessions (their seats become free). */
  sweep(now = Date.now()): void {
    for (const [token, s] of this.sessions) {
      if (now - s.lastSeen > this.opts.sessionTtlMs) {
        this.sessions.delete(token);
        this.expiredSessions++;
      }
    }
  }

  expireAll(): void {
    this.expiredSessions += this.sessions.size;
    this.sessions.clear();
  }

  liveSessions(): number {
    this.sweep();
    return this.sessions.size;
  }

  /** `Authorization: Bearer <token>` (a bare token is accepted too); touches the session. */
  authenticate(header: string | undefined): SimSession | undefined {
    if (!header) return undefined;
    const m = /^\s*(?:bearer\s+)?(\S+)\s*$/i.exec(header);
    if (!m) return undefined;
    const token = m[1]!.toLowerCase();
    this.sweep();
    const s = this.sessions.get(token);
    if (s) s.lastSeen = Date.now();
    return s;
  }

  login(body: unknown): Reply {
    if (!isObject(body) || typeof body.username !== 'string' || typeof body.password !== 'string') return errorReply(400, TEXT.badRequest);
    if (body.erp !== undefined && typeof body.erp !== 'boolean') return errorReply(400, TEXT.badRequest);
    const { username, password } = this.opts.credentials;
    if (body.username !== username || body.password !== password) return errorReply(401, TEXT.badCredentials);
    const live = this.liveSessions();
    if (live >= this.opts.maxSessions) {
      this.loginRefusals++;
      return errorReply(409, TEXT.noLicence(live, this.opts.maxSessions));
    }
    const token = randomUUID();
    this.sessions.set(token, {
      token,
      username,
      state: 'directory',
      dir: '',
      projectId: null,
      phaseId: null,
      elevationId: null,
      lastSeen: Date.now(),
    });
    this.logins++;
    this.peakSessions = Math.max(this.peakSessions, this.sessions.size);
    const data: SessionData = { username, token };
    return okReply(data);
  }

  logout(s: SimSession): Reply {
    this.sessions.delete(s.token);
    this.logouts++;
    return okReply();
  }

  // -------------------------------------------------------------------------------------------
  // Helpers

  private wrongState(required: ContextState): Reply {
    return errorReply(405, WRONG_STATE_TEXT[required]);
  }

  private project(s: SimSession): SimProject | undefined {
    return projectsOf(this.dataset, s.dir)?.find((p) => p.data.id.toLowerCase() === s.projectId);
  }

  private phase(s: SimSession): SimPhase | undefined {
    return this.project(s)?.phases.find((p) => p.data.id.toLowerCase() === s.phaseId);
  }

  private elevationInPhase(s: SimSession, id: string): SimElevation | undefined {
    return this.phase(s)?.elevations.find((e) => e.data.id.toLowerCase() === id);
  }

  // -------------------------------------------------------------------------------------------
  // Directories

  listDirectories(s: SimSession): Reply {
    if (s.state !== 'directory') return this.wrongState('directory');
    const dirs = childrenOf(this.dataset, s.dir) ?? [];
    return okReply(dirs.map((d): DirectoryData => ({ name: d.name, path: d.path })));
  }

  selectDirectory(s: SimSession, body: unknown): Reply {
    if (!isObject(body) || typeof body.identifier !== 'string' || body.identifier === '') return errorReply(400, TEXT.badRequest);
    const id = body.identifier;
    // Observed: from project state or deeper the answer is 409 "isn't valid in the current mapping".
    if (s.state !== 'directory') return errorReply(409, invalidMappingText(id));
    if (!findDirectory(this.dataset, id)) return errorReply(404, TEXT.notFound(id));
    if (this.opts.directorySelect === 'stepwise' && !isAncestorOrSelf(parentPath(id), s.dir) && !isAncestorOrSelf(id, s.dir)) {
      return errorReply(409, invalidMappingText(id));
    }
    s.dir = id;
    return okReply();
  }

  // -------------------------------------------------------------------------------------------
  // Projects

  listProjects(s: SimSession): Reply {
    if (s.state !== 'directory') return this.wrongState('directory');
    return okReply((projectsOf(this.dataset, s.dir) ?? []).map((p) => p.data));
  }

  selectProject(s: SimSession, body: unknown): Reply {
    if (!isObject(body)) return errorReply(400, TEXT.badRequest);
    const id = parseGuid(body.identifier);
    if (!id) return errorReply(400, TEXT.badRequest);
    // Project → other project is untested on real servers; the spec's 405 says "expects a directory".
    if (s.state !== 'directory') return this.wrongState('directory');
    const p = projectsOf(this.dataset, s.dir)?.find((x) => x.data.id.toLowerCase() === id);
    if (!p) return errorReply(404, TEXT.notFound(String(body.identifier)));
    s.state = 'project';
    s.projectId = id;
    return okReply();
  }

  selectedProject(s: SimSession): Reply {
    if (s.state === 'directory') return this.wrongState('project');
    const p = this.project(s);
    // The project vanished from the dataset under a live session: "current resource state".
    if (!p) return errorReply(409, `The selected project '${s.projectId}' is no longer available.`);
    return okReply(p.data);
  }

  // -------------------------------------------------------------------------------------------
  // Phases

  listPhases(s: SimSession): Reply {
    if (s.state !== 'project') return this.wrongState('project');
    return okReply((this.project(s)?.phases ?? []).map((p) => p.data));
  }

  selectPhase(s: SimSession, body: unknown): Reply {
    if (!isObject(body)) return errorReply(400, TEXT.badRequest);
    const id = parseGuid(body.identifier);
    if (!id) return errorReply(400, TEXT.badRequest);
    const reselect = s.state === 'phase' || s.state === 'elevation';
    if (!(s.state === 'project' || (reselect && this.opts.allowPhaseReselect))) return this.wrongState('project');
    const ph = this.project(s)?.phases.find((x) => x.data.id.toLowerCase() === id);
    if (!ph) return errorReply(404, TEXT.notFound(String(body.identifier)));
    s.state = 'phase';
    s.phaseId = id;
    s.elevationId = null;
    return okReply();
  }

  // -------------------------------------------------------------------------------------------
  // Elevations

  listElevations(s: SimSession): Reply {
    if (s.state !== 'phase') return this.wrongState('phase');
    return okReply((this.phase(s)?.elevations ?? []).map((e) => e.data));
  }

  selectElevation(s: SimSession, body: unknown): Reply {
    if (!isObject(body)) return errorReply(400, TEXT.badRequest);
    const id = parseGuid(body.identifier);
    if (!id) return errorReply(400, TEXT.badRequest);
    const sibling = s.state === 'elevation' && this.opts.allowSiblingElevationSelect;
    if (!(s.state === 'phase' || sibling)) return this.wrongState('phase');
    if (!this.elevationInPhase(s, id)) return errorReply(404, TEXT.notFound(String(body.identifier)));
    s.state = 'elevation';
    s.elevationId = id;
    return okReply();
  }

  thumbnail(s: SimSession, elevationId: string, query: Record<string, unknown>): Reply {
    if (s.state !== 'phase') return this.wrongState('phase');
    const q = this.thumbQuery(query);
    if (typeof q === 'string') return errorReply(400, q);
    const id = parseGuid(elevationId);
    const e = id ? this.elevationInPhase(s, id) : undefined;
    if (!e) return errorReply(400, `The elevation '${elevationId}' is not part of the selected phase.`);
    return this.renderThumb(e, q);
  }

  selectedThumbnail(s: SimSession, query: Record<string, unknown>): Reply {
    if (s.state !== 'elevation') return this.wrongState('elevation');
    const q = this.thumbQuery(query);
    if (typeof q === 'string') return errorReply(400, q);
    const e = this.elevationInPhase(s, s.elevationId!);
    if (!e) return errorReply(409, `The selected elevation '${s.elevationId}' is no longer available.`);
    return this.renderThumb(e, q);
  }

  partsList(s: SimSession): Reply {
    if (s.state !== 'elevation') return this.wrongState('elevation');
    const project = this.project(s);
    const phase = this.phase(s);
    const e = this.elevationInPhase(s, s.elevationId!);
    if (!project || !phase || !e) return errorReply(409, `The selected elevation '${s.elevationId}' is no longer available.`);
    const file = this.partsLists.file(this.dataset, project, phase, e);
    this.partsListDownloads++;
    return { status: 200, body: this.partsLists.body(file), contentType: JSON_TYPE };
  }

  /** All six query parameters are required strings (names lower-case as in the spec). */
  private thumbQuery(query: Record<string, unknown>): { w: number; h: number; exterior: boolean; dims: boolean } | string {
    const get = (k: string) => (typeof query[k] === 'string' ? (query[k] as string) : undefined);
    const width = get('width');
    const height = get('height');
    const format = get('format');
    const view = get('view');
    const dims = get('withdimensions');
    const desc = get('withdescription');
    if (width === undefined || height === undefined || format === undefined || view === undefined || dims === undefined || desc === undefined) {
      return 'The query parameters width, height, format, view, withdimensions and withdescription are required.';
    }
    const w = Number(width);
    const h = Number(height);
    if (!/^\d+$/.test(width) || !/^\d+$/.test(height) || w < 1 || h < 1 || w > 4096 || h > 4096) return 'width and height must be whole numbers of pixels (1..4096).';
    if (!['PNG', 'JPG', 'EMF'].includes(format.toUpperCase())) return "format must be one of 'PNG', 'JPG', 'EMF'.";
    if (format.toUpperCase() !== 'PNG') return 'The simulator renders PNG thumbnails only.';
    if (!['interior', 'exterior'].includes(view.toLowerCase())) return "view must be one of 'Interior', 'Exterior'.";
    if (!['true', 'false'].includes(dims.toLowerCase()) || !['true', 'false'].includes(desc.toLowerCase())) {
      return "withdimensions and withdescription must be 'true' or 'false'.";
    }
    return { w, h, exterior: view.toLowerCase() === 'exterior', dims: dims.toLowerCase() === 'true' };
  }

  private renderThumb(e: SimElevation, q: { w: number; h: number; exterior: boolean; dims: boolean }): Reply {
    const d = e.data;
    const key = `${d.id}:${d.versionId}:${d.width}x${d.height}:${q.w}x${q.h}:${q.exterior}:${q.dims}`;
    let png = this.thumbs.get(key);
    if (!png) {
      png = renderElevationPng({ widthMm: d.width, heightMm: d.height, exterior: q.exterior, withDimensions: q.dims }, q.w, q.h);
      if (this.thumbs.size > 500) this.thumbs.clear();
      this.thumbs.set(key, png);
    }
    this.thumbnailDownloads++;
    return { status: 200, body: png, contentType: 'application/octet-stream' };
  }
}
