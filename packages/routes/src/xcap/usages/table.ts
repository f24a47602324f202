/** The table of application usages `xcap()` starts from. */
import { pidfManipulationUsage } from './pidf-manipulation.js';
import { omaPresRulesUsage, presRulesUsage } from './pres-rules.js';
import { resourceListsUsage } from './resource-lists.js';
import { rlsServicesUsage } from './rls-services.js';
import type { XcapUsage } from './usage.js';

/** The usages `xcap()` stores documents for unless told otherwise; xcap-caps and the directory come on top. */
export const STORED_USAGES: readonly XcapUsage[] = [resourceListsUsage, rlsServicesUsage, presRulesUsage, omaPresRulesUsage, pidfManipulationUsage];
