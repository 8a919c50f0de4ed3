/** Seed data sets (currently one: the deterministic demo set used by `serve --demo` and `seed`). */
export { seedDemo, isDemoSeeded, type DemoSummary } from './demo';
export { DEMO_TABLES, DEMO_PROJECT_NAME, DEMO_DEFAULT_NOW, type DemoTable } from './demo';
