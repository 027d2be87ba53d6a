/**
 * Alert bodies for where people and tools read them (`alerts.format`). Pure: built from an alert's facts.
 *
 * - `chatbot`: AWS Chatbot's custom notification (version 1.0, source custom): Slack and Teams render its title,
 *   description, next steps and keywords instead of raw JSON. Chatbot subscribes to the topic over https.
 * - `json`: for https subscribers such as PagerDuty or Opsgenie webhooks, an event with `dedupKey` stable for the
 *   whole incident (target + when it opened) and `action` `trigger` or `resolve`, so the tool dedupes re-sends and
 *   reminders and closes the incident on recovery; `severity` `critical` for a broken path, `warning` for a failed
 *   assertion (the tool can page for one and open a low-urgency ticket for the other).
 */
import type { PathResult } from '../types.ts';
import type { AlertFacts, AnyAlert, FindingFacts } from './text.ts';

/** An address with its zone when known, zone first as alerts write it: `ap-northeast-1c (10.0.3.15)`, or `10.0.3.15`. */
export const placeOf = (path: Pick<PathResult, 'address' | 'zone'>): string =>
  path.zone ? `${path.zone} (${path.address})` : path.address;

export type AlertFormat = 'text' | 'chatbot' | 'json';

/** AWS Chatbot's custom notification (test/fixtures/chatbot-custom-notification.schema.json). */
export interface ChatbotNotification {
  version: '1.0';
  source: 'custom';
  id: string;
  content: {
    textType: 'client-markdown';
    title: string;
    description: string;
    nextSteps?: string[];
    keywords: string[];
  };
  metadata: {
    threadId: string;
    summary: string;
    eventType: string;
    relatedResources: string[];
    additionalContext: Record<string, string>;
  };
}

/** The webhook event of `alerts.format: json`. */
export interface WebhookEvent {
  type: 'codecommit-canary/event';
  v: 1;
  /** One key per incident (or finding): every notification about it carries the same one. */
  dedupKey: string;
  action: 'trigger' | 'resolve';
  severity: 'critical' | 'warning' | 'info';
  summary: string;
  source: string;
  timestamp: string;
  /** The notification's own key (one per send), as in the text format's facts. */
  notificationKey: string;
  details: AlertFacts | FindingFacts;
}

const isFinding = (facts: AlertFacts | FindingFacts): facts is FindingFacts =>
  facts.type === 'codecommit-canary/finding';

/** The incident a notification belongs to: `target/openedAt`, or the finding's item key and identity. */
const incidentKey = (alert: AnyAlert): string => {
  const parts = alert.dedupKey.split('/');
  // `<target>/<opened>/<STATE>/<run>` and `#findings/<finding key>/<STATE>/<run>`: drop state and run.
  return parts.slice(0, -2).join('/');
};

/** Chatbot renders markdown: keep user text from turning into markup. */
const plainMarkdown = (text: string): string => text.replace(/([*_`~>|[\]])/g, '\\$1');

/** What differs between a target's and a finding's Chatbot notification; the envelope is the same. */
interface ChatbotParts {
  description: string;
  remediation: string | null;
  keywords: string[];
  relatedResources: string[];
  additionalContext: Record<string, string>;
}

function chatbotParts(facts: AlertFacts | FindingFacts): ChatbotParts {
  if (isFinding(facts)) {
    return {
      description: plainMarkdown(facts.finding.message),
      remediation: facts.state === 'FINDING' ? facts.finding.remediation : null,
      keywords: [facts.state, facts.finding.code, facts.finding.severity],
      relatedResources: facts.finding.target ? [facts.finding.target] : [],
      additionalContext: { subject: facts.finding.subject, runId: facts.runId, at: facts.at },
    };
  }
  // Owed alerts kept from before paths, stalls and severity existed lack those facts.
  const paths = facts.paths ?? [];
  const failingPaths = paths.filter((path) => !path.ok);
  const lines = [
    `*Target* ${plainMarkdown(facts.target)} (${plainMarkdown(facts.repository)}, ${facts.region})`,
    facts.step ? `*Step* ${facts.step}: ${facts.kind ?? 'failed'} in ${facts.phase ?? 'unknown phase'}` : null,
    facts.message ? `*Failure* ${plainMarkdown(facts.message)}` : null,
    failingPaths.length > 0 && facts.state !== 'RECOVERED'
      ? `*Paths* ${failingPaths.length} of ${paths.length} failing: ${plainMarkdown(failingPaths.map(placeOf).join(', '))}`
      : null,
    typeof facts.bytesBeforeStall === 'number' ? `*Pack* stalled after ${facts.bytesBeforeStall} bytes` : null,
    facts.failingSince ? `*Failing since* ${facts.failingSince} (${facts.consecutiveFailures} failed runs)` : null,
    facts.heldBy
      ? `*Held* by a ${facts.heldBy.kind} until ${facts.heldBy.until}: ${plainMarkdown(facts.heldBy.reason)}`
      : null,
    facts.failOpen ? `*Note* incident state unavailable; may repeat every run` : null,
  ];
  return {
    description: lines.filter((line) => line !== null).join('\n'),
    remediation: facts.remediation ?? null,
    keywords: [facts.state, facts.target, ...(facts.kind ? [facts.kind] : []), facts.severity ?? 'critical'],
    relatedResources: [facts.repository, ...(facts.roleArn ? [facts.roleArn] : [])],
    additionalContext: { target: facts.target, region: facts.region, runId: facts.runId, at: facts.at },
  };
}

/**
 * @example
 * chatbotNotification(alert).content.title // '[ALARM] team-repo: git ls-remote timed out in tls after 10.0 s'
 */
export function chatbotNotification(alert: AnyAlert): ChatbotNotification {
  const { facts } = alert;
  const parts = chatbotParts(facts);
  return {
    version: '1.0',
    source: 'custom',
    id: alert.dedupKey,
    content: {
      textType: 'client-markdown',
      title: alert.subject,
      description: parts.description,
      ...(parts.remediation ? { nextSteps: [plainMarkdown(parts.remediation)] } : {}),
      keywords: ['codecommit-canary', ...parts.keywords],
    },
    metadata: {
      threadId: incidentKey(alert),
      summary: alert.subject,
      eventType: `codecommit-canary-${facts.state.toLowerCase()}`,
      relatedResources: parts.relatedResources,
      additionalContext: parts.additionalContext,
    },
  };
}

/**
 * @example
 * webhookEvent(alarm).action // 'trigger'; webhookEvent(recovered).dedupKey === webhookEvent(alarm).dedupKey
 */
export function webhookEvent(alert: AnyAlert): WebhookEvent {
  const facts = alert.facts;
  const resolve = facts.state === 'RECOVERED' || facts.state === 'CLEARED';
  const severity = isFinding(facts)
    ? facts.finding.severity === 'critical'
      ? 'critical'
      : 'warning'
    : resolve
      ? 'info'
      : (facts.severity ?? 'critical');
  return {
    type: 'codecommit-canary/event',
    v: 1,
    dedupKey: incidentKey(alert),
    action: resolve ? 'resolve' : 'trigger',
    severity,
    summary: alert.subject,
    source: isFinding(facts) ? (facts.finding.target ?? facts.finding.subject) : facts.target,
    timestamp: facts.at,
    notificationKey: alert.dedupKey,
    details: facts,
  };
}

/**
 * The body https (and http) subscribers get for a format; null: the text format's facts.
 *
 * @example
 * JSON.parse(httpsBody(alert, 'chatbot') ?? '{}').source // 'custom'
 */
export function httpsBody(alert: AnyAlert, format: AlertFormat): string | null {
  if (format === 'chatbot') return JSON.stringify(chatbotNotification(alert));
  if (format === 'json') return JSON.stringify(webhookEvent(alert));
  return null;
}
