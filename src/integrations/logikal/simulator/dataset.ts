/**
 * The simulator's data: a project-centre tree of directories → projects → phases → elevations,
 * each node carrying the exact wire object (`data`) the API returns for it. Tests may edit a
 * dataset freely between runs (it is plain data); LogikalSimulator.editElevation is the helper
 * that also bumps `changedDate`/`versionId` the way an edit in Logikal does.
 */
import { createHash } from 'node:crypto';
import {
  NULL_GUID,
  type ElevationData,
  type PhaseData,
  type ProgramInformationData,
  type ProjectData,
  type SurfaceDataData,
} from '../contract';

/** How the generated parts-list file of one elevation looks (passed to buildPartsList). */
export interface SimPartsListFixture {
  systemName?: string;
  systemCode?: string;
  colorBaseLong?: string;
  targetBytes?: number;
  spelling?: 'output' | 'legacy';
  seed?: number;
  variant?: 'normal' | 'multi-row' | 'missing-glass' | 'empty-elevations';
}

export interface SimElevation {
  data: ElevationData;
  /** Explicit parts-list bytes (e.g. a hostile file); otherwise one is generated and cached. */
  partsList?: Buffer;
  /** Knobs for the generated file; system name/code default from `data.systemDescription`. */
  fixture?: SimPartsListFixture;
}

export interface SimPhase {
  data: PhaseData;
  elevations: SimElevation[];
}

export interface SimProject {
  data: ProjectData;
  phases: SimPhase[];
}

export interface SimDirectory {
  /** Last path segment. */
  name: string;
  /** Full path from the project-centre root, segments joined with `/` (the directory's only key). */
  path: string;
  projects: SimProject[];
  children: SimDirectory[];
}

export interface SimDataset {
  /** `GET /version` payload. */
  version: ProgramInformationData;
  /** Top-level directories (what `GET /directories` lists right after login). */
  directories: SimDirectory[];
  /** Projects living directly in the root of the project centre (`GET /projects` right after login). */
  rootProjects: SimProject[];
  /** Default size of generated parts-list files (bytes, approximate); per-elevation fixture wins. */
  partsListBytes?: number;
}

// ---------------------------------------------------------------------------------------------
// Look-ups (the dataset is mutable, so they walk it each time; it is small)

export function allDirectories(ds: SimDataset): SimDirectory[] {
  const out: SimDirectory[] = [];
  const walk = (dirs: SimDirectory[]) => {
    for (const d of dirs) {
      out.push(d);
      walk(d.children);
    }
  };
  walk(ds.directories);
  return out;
}

export function findDirectory(ds: SimDataset, path: string): SimDirectory | undefined {
  return allDirectories(ds).find((d) => d.path === path);
}

/** Projects of a directory path; '' is the root. */
export function projectsOf(ds: SimDataset, path: string): SimProject[] | undefined {
  if (path === '') return ds.rootProjects;
  return findDirectory(ds, path)?.projects;
}

/** Sub-directories of a directory path; '' is the root. */
export function childrenOf(ds: SimDataset, path: string): SimDirectory[] | undefined {
  if (path === '') return ds.directories;
  return findDirectory(ds, path)?.children;
}

export function allProjects(ds: SimDataset): Array<{ directoryPath: string; project: SimProject }> {
  const out = ds.rootProjects.map((project) => ({ directoryPath: '', project }));
  for (const d of allDirectories(ds)) for (const project of d.projects) out.push({ directoryPath: d.path, project });
  return out;
}

export function findElevation(ds: SimDataset, id: string): SimElevation | undefined {
  const want = id.toLowerCase();
  for (const { project } of allProjects(ds))
    for (const ph of project.phases) for (const e of ph.elevations) if (e.data.id.toLowerCase() === want) return e;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The demo dataset (modelled on the real DOS22309 project-centre seen in the prior project's logs)

/** A stable GUID derived from a label, so the demo dataset is identical in every run. */
export function demoGuid(label: string): string {
  const h = createHash('sha1').update(`logikal-sim:${label}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

interface SystemInfo {
  name: string;
  code: string;
  model: string;
  auto: (w: number, h: number) => string;
}

const SYSTEMS: Record<string, SystemInfo> = {
  ML8: {
    name: 'Reynaers MasterLine 8',
    code: 'ML 8',
    model: 'Window turn/tilt 1 vent',
    auto: (w, h) => `Raam 1-vaks draai/kiep, ${w} x ${h} mm`,
  },
  CP130: {
    name: 'Reynaers ConceptPatio 130-LS (CP 130-LS)',
    code: 'CP 130-LS',
    model: 'Lift-and-slide door 2 leaves',
    auto: (w, h) => `Hefschuifdeur 2-delig, ${w} x ${h} mm`,
  },
  CS77: {
    name: 'Reynaers ConceptSystem 77',
    code: 'CS 77',
    model: 'Door 1 leaf inward opening',
    auto: (w, h) => `Deur 1-vleugel naar binnen draaiend, ${w} x ${h} mm`,
  },
  SL38: {
    name: 'Reynaers SlimLine 38 Classic',
    code: 'SL 38',
    model: 'Fixed window',
    auto: (w, h) => `Vast raam, ${w} x ${h} mm`,
  },
  CW50: {
    name: 'Reynaers ConceptWall 50',
    code: 'CW 50',
    model: 'Curtain wall 3 x 2 fields',
    auto: (w, h) => `Vliesgevel 3 x 2 velden, ${w} x ${h} mm`,
  },
};

const SURFACES: SurfaceDataData[] = [
  { name: 'RAL 9016 mat', colorInside: 'RAL 9016', colorOutside: 'RAL 9016' },
  { name: 'RAL 7016 structuur / RAL 9016', colorInside: 'RAL 9016', colorOutside: 'RAL 7016' },
  { name: 'RAL 9005 fijnstructuur', colorInside: 'RAL 9005', colorOutside: 'RAL 9005' },
  { name: 'Anodisatie naturel', colorInside: 'E6/C0', colorOutside: 'E6/C0' },
];

type ElevSpec = [name: string, system: keyof typeof SYSTEMS, widthMm: number, heightMm: number, amount: number];

function elevation(projectName: string, phaseName: string, spec: ElevSpec, index: number, baseDate: number): SimElevation {
  const [name, sysKey, width, height, amount] = spec;
  const sys = SYSTEMS[sysKey]!;
  const surface = SURFACES[index % SURFACES.length]!;
  const createdDate = baseDate + index * 3_600;
  const changedDate = createdDate + 86_400 * (3 + (index % 11));
  return {
    data: {
      id: demoGuid(`${projectName}/${phaseName}/${name}`),
      versionId: demoGuid(`${projectName}/${phaseName}/${name}/v1`),
      name,
      amount,
      isInRecycleBin: false,
      automaticDescription: sys.auto(width, height),
      systemDescription: sys.name,
      modelDescription: sys.model,
      userDescription: index % 4 === 0 ? `Positie ${name} gelijkvloers` : '',
      surfaceOfBaseElement: surface,
      surfaceOfInsertions: surface,
      createdByUser: index % 3 === 0 ? 'NGO' : 'admin',
      createdDate,
      changedDate,
      width,
      height,
      isElementPricelistElevation: false,
      elementPricelistId: NULL_GUID,
      // The value sets of `type` and `state` are undocumented; these are plausible placeholders.
      type: 'Elevation',
      state: 'Calculated',
    },
    fixture: { systemName: sys.name, systemCode: sys.code, colorBaseLong: surface.name, seed: index + 1 },
  };
}

function project(
  name: string,
  id: string,
  fields: Pick<ProjectData, 'jobNumber' | 'offerNumber' | 'personInCharge' | 'createdDate' | 'changedDate'>,
  phases: Array<{ id: string; name: string; description: string; elevations: ElevSpec[] }>,
): SimProject {
  let i = 0;
  return {
    data: { id, name, isDeleted: false, estimated: false, ...fields },
    phases: phases.map((ph) => ({
      data: { id: ph.id, name: ph.name, description: ph.description },
      elevations: ph.elevations.map((spec) => elevation(name, ph.name, spec, i++, fields.createdDate + 600)),
    })),
  };
}

const DEFAULT_PHASE = { id: NULL_GUID, name: 'Posities zonder levering', description: '' };

/**
 * DOS22309-like demo data: "Demo Odoo" with DOS22309 (null-GUID phase "Posities zonder levering"
 * with P01..P13 and "Fase 1 (DEMO)" with P14..P17), DOS22410 and DOS22269; the nested chain
 * "Demo Odoo/Sublevel 1 Testing/…/Sublevel 4 Testing" with one project in Sublevel 1; and a
 * second top-level directory "Archief" with one project. GUIDs are stable across runs.
 */
export function demoDataset(opts: { partsListBytes?: number } = {}): SimDataset {
  const dos22309 = project(
    'DOS22309',
    '5ddb1393-56eb-4280-9f7e-3c3aec51483c',
    { jobNumber: '0000003948', offerNumber: 'OFF44465 NG', personInCharge: 'Nick Goossens ', createdDate: 1711463060, changedDate: 1756302572 },
    [
      {
        ...DEFAULT_PHASE,
        elevations: [
          ['P01', 'ML8', 1230, 1480, 2],
          ['P02', 'ML8', 980, 1480, 1],
          ['P03', 'ML8', 2290, 1403, 1],
          ['P04', 'CS77', 1050, 2350, 1],
          ['P05', 'SL38', 1800, 1200, 3],
          ['P06', 'ML8', 760, 1080, 4],
          ['P07', 'CS77', 1150, 2400, 1],
          ['P08', 'SL38', 2400, 600, 2],
          ['P09', 'ML8', 1450, 1650, 1],
          ['P10', 'CW50', 4800, 3100, 1],
          ['P11', 'CP130', 3100, 2245, 1],
          ['P12', 'ML8', 600, 600, 6],
          ['P13', 'SL38', 1350, 2100, 1],
        ],
      },
      {
        id: demoGuid('DOS22309/Fase 1 (DEMO)'),
        name: 'Fase 1 (DEMO)',
        description: 'Eerste levering',
        elevations: [
          ['P14', 'CP130', 4200, 2400, 1],
          ['P15', 'ML8', 1600, 1500, 2],
          ['P16', 'CS77', 1000, 2250, 1],
          ['P17', 'CW50', 3600, 2900, 1],
        ],
      },
    ],
  );
  const dos22410 = project(
    'DOS22410',
    '15782e4d-a69c-4ce5-9c17-d3060a039b2d',
    { jobNumber: '0000004012', offerNumber: '44019', personInCharge: 'Sofie Peeters', createdDate: 1714034000, changedDate: 1755093211 },
    [
      {
        ...DEFAULT_PHASE,
        elevations: [
          ['P01', 'ML8', 1180, 1390, 2],
          ['P02', 'SL38', 900, 900, 1],
          ['P03', 'ML8', 2290, 1403, 1],
        ],
      },
    ],
  );
  const dos22269 = project(
    'DOS22269',
    demoGuid('project/DOS22269'),
    { jobNumber: '0000003871', offerNumber: 'OFF43920', personInCharge: 'Nick Goossens ', createdDate: 1709290800, changedDate: 1752665400 },
    [
      {
        ...DEFAULT_PHASE,
        elevations: [
          ['R004_A', 'ML8', 1400, 1600, 1],
          ['D002', 'CS77', 1100, 2300, 1],
        ],
      },
      {
        id: demoGuid('DOS22269/Fase 2'),
        name: 'Fase 2',
        description: '',
        elevations: [['R005', 'SL38', 2000, 1000, 2]],
      },
    ],
  );
  const sublevel = project(
    'DOS22415',
    demoGuid('project/DOS22415'),
    { jobNumber: '0000004020', offerNumber: 'TEST SUBLEVEL', personInCharge: 'admin', createdDate: 1716220800, changedDate: 1716307200 },
    [{ ...DEFAULT_PHASE, elevations: [['P01', 'ML8', 1000, 1200, 1]] }],
  );
  const archived = project(
    'DOS21077',
    demoGuid('project/DOS21077'),
    { jobNumber: '0000003102', offerNumber: 'OFF39811', personInCharge: 'Sofie Peeters', createdDate: 1680307200, changedDate: 1690848000 },
    [{ ...DEFAULT_PHASE, elevations: [['P01', 'SL38', 1500, 1500, 1]] }],
  );

  const chain = (depth: number, parent: string): SimDirectory[] => {
    if (depth > 4) return [];
    const path = `${parent}/Sublevel ${depth} Testing`;
    return [
      {
        name: `Sublevel ${depth} Testing`,
        path,
        projects: depth === 1 ? [sublevel] : [],
        children: chain(depth + 1, path),
      },
    ];
  };

  return {
    version: {
      componentVersions: [
        { name: 'MBIOE Service', version: '12.2.6.59', description: 'Logikal REST API (simulator)' },
        { name: 'LogiKal', version: '12.2.6', description: 'Orgadata LogiKal' },
      ],
    },
    directories: [
      { name: 'Demo Odoo', path: 'Demo Odoo', projects: [dos22309, dos22410, dos22269], children: chain(1, 'Demo Odoo') },
      { name: 'Archief', path: 'Archief', projects: [archived], children: [] },
    ],
    rootProjects: [],
    partsListBytes: opts.partsListBytes,
  };
}
