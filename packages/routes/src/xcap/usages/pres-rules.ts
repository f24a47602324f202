/**
 * Presence authorization rules (RFC 5025 §9, the `pres-rules` usage, and OMA's `org.openmobilealliance.pres-rules`,
 * the same format under OMA's AUID): a common-policy `<ruleset>` (RFC 4745) of `<rule id>`s, whose ids are unique
 * (the schema's xs:ID, so a duplicate is a uniqueness-failure naming it).
 */
import { xcapConflict } from '../xcap-error.js';
import { checkRoot, checkUniqueAmongSiblings, requireAttribute } from './checks.js';
import { elementChildren, type XcapUsage } from './usage.js';

export const COMMON_POLICY_NS = 'urn:ietf:params:xml:ns:common-policy';
const PRES_RULES_NS = 'urn:ietf:params:xml:ns:pres-rules';

function presRules(auid: string): XcapUsage {
  const usage: XcapUsage = {
    auid,
    mimeType: 'application/auth-policy+xml',
    namespace: COMMON_POLICY_NS,
    rootElement: 'ruleset',
    extraNamespaces: [PRES_RULES_NS],
    validate(doc) {
      const root = checkRoot(doc, usage);
      for (const rule of elementChildren(root)) {
        if (rule.namespaceURI !== COMMON_POLICY_NS || rule.localName !== 'rule') {
          throw xcapConflict('schema-validation-error', `<ruleset> holds only <rule> elements, got <${rule.nodeName}>`);
        }
        requireAttribute(rule, 'id');
        for (const part of elementChildren(rule)) {
          if (part.namespaceURI === COMMON_POLICY_NS && !['conditions', 'actions', 'transformations'].includes(part.localName!)) {
            throw xcapConflict('schema-validation-error', `<${part.localName}> is not allowed in a <rule>`);
          }
        }
      }
      checkUniqueAmongSiblings(root, COMMON_POLICY_NS, 'rule', 'id', COMMON_POLICY_NS, true);
    },
  };
  return usage;
}

/** RFC 5025's usage. */
export const presRulesUsage: XcapUsage = presRules('pres-rules');
/** OMA Presence SIMPLE's usage of the same format (OMA-TS-Presence_SIMPLE_XDM). */
export const omaPresRulesUsage: XcapUsage = presRules('org.openmobilealliance.pres-rules');
