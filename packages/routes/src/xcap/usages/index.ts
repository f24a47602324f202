export { type ComposedDocument, type GenerateContext, type UniqueValue, type ValidationContext, type XcapUsage } from './usage.js';
export { resourceListsUsage, RESOURCE_LISTS_NS } from './resource-lists.js';
export { rlsServicesUsage, RLS_SERVICES_NS } from './rls-services.js';
export { omaPresRulesUsage, presRulesUsage, COMMON_POLICY_NS } from './pres-rules.js';
export { pidfManipulationUsage, PIDF_NS } from './pidf-manipulation.js';
export { capsUsage, directoryUsage } from './server-documents.js';
export { STORED_USAGES } from './table.js';
