// Public surface of the registries: drug master data (FEST), the health personnel register (HPR) and the
// population registry, each an interface with a store-backed or embedded demo implementation.
export { REGISTRY_ISSUE_SYSTEM, festDrugRegistry, findProduct, type DrugRegistry, type ProductLookup, type ProductReference } from './drugs.ts';
export {
  DEMO_HPR,
  chainPrescriberRegistries,
  demoHprRegistry,
  hprRegistryFromTable,
  normaliseHpr,
  prescribingAuthorization,
  type HprAuthorization,
  type HprPerson,
  type PrescriberRegistry,
} from './hpr.ts';
export { personNumberSystem, storePopulationRegistry, type PopulationRegistry } from './population.ts';
export { DEMO_FEST_FILE } from './fest/demo-file.ts';
export { ingestFest, ingestFestFile, loadDemoFest, type FestLoadReport, type FestProgress } from './fest/ingest.ts';
export { FestFormatError, parseFest, type FestEvent } from './fest/m30-parser.ts';
export { festIngestCommand, FEST_INGEST_USAGE } from './fest/cli.ts';
export type { CodedValue, FestIngredient, FestPackage, FestProduct } from './fest/types.ts';
