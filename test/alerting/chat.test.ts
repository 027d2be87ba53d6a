import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { gitTlsTimeout, record, recordingLogger, targetResult } from '../../harness/sqs.ts';
import { chatbotNotification, webhookEvent } from '../../lib/alerting/chat.ts';
import { FINDINGS_ITEM_KEY, notify } from '../../lib/alerting/notify.ts';
import { Outbox } from '../../lib/alerting/outbox.ts';
import type { AlertSink } from '../../lib/alerting/sinks.ts';
import { type AnyAlert, snsMessage } from '../../lib/alerting/text.ts';
import { MemoryTable } from '../../lib/alerting/versioned-table.ts';
import type { FindingsRecord } from '../../lib/types.ts';

const SCHEMA = JSON.parse(
  readFileSync(new URL('../fixtures/chatbot/custom-notification.schema.json', import.meta.url), 'utf8'),
);
const validate = new Ajv({ allErrors: true, strict: true }).compile(SCHEMA);
const T0 = new Date('2026-11-27T06:00:00.000Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

/** The alerts the notifier sends for an incident (ALARM, REMINDER, RECOVERED) and a finding that comes and goes. */
async function incidentAlerts(): Promise<AnyAlert[]> {
  const sent: AnyAlert[] = [];
  const sink: AlertSink = {
    send: async (alert) => {
      sent.push(alert);
      return { delivered: true };
    },
  };
  const clock = { at: T0, now: () => clock.at };
  const deps = {
    outbox: new Outbox(new MemoryTable(), { clock }),
    sink,
    logger: recordingLogger(),
    settings: { failuresBeforeAlert: 1, renotifyMinutes: 60 },
    clock,
  };
  const finding = {
    code: 'global-sts-unreachable' as const,
    severity: 'warning' as const,
    subject: 'sts.amazonaws.com',
    message: 'sts.amazonaws.com does not answer from this VPC',
    remediation: 'set sts_regional_endpoints = regional',
  };
  const findings = (runId: string, at: Date, list: FindingsRecord['findings']): FindingsRecord => ({
    type: 'codecommit-canary/findings',
    v: 1,
    runId,
    at: at.toISOString(),
    findings: list,
  });
  for (const [at, result, list] of [
    [0, gitTlsTimeout('team-repo'), [finding]],
    [61, gitTlsTimeout('team-repo'), [finding]],
    [62, targetResult('team-repo'), []],
  ] as const) {
    clock.at = minutes(at);
    await notify([record(`run-${at}`, minutes(at), result)], [findings(`run-${at}`, minutes(at), [...list])], deps);
  }
  return sent;
}

describe('alerts.format', () => {
  it('chatbot: every page and finding notification is a valid AWS Chatbot custom notification', async () => {
    const alerts = await incidentAlerts();
    expect(alerts.map((a) => a.attributes.state)).toEqual(['ALARM', 'FINDING', 'REMINDER', 'RECOVERED', 'CLEARED']);
    for (const alert of alerts) {
      const body = JSON.parse(JSON.parse(snsMessage(alert, 'chatbot')).https);
      expect({ state: alert.attributes.state, errors: validate(body) ? null : validate.errors }).toEqual({
        state: alert.attributes.state,
        errors: null,
      });
      expect(body.content.title).toBe(alert.subject);
    }
    const alarm = chatbotNotification(alerts[0] as AnyAlert);
    expect(alarm.content.nextSteps?.[0]).toMatch(/\S/);
    expect(alarm.content.keywords).toEqual(['codecommit-canary', 'ALARM', 'team-repo', 'timeout', 'critical']);
    // One thread per incident: the ALARM, its reminder and its recovery.
    const threads = alerts
      .filter((a) => a.attributes.target === 'team-repo')
      .map((a) => chatbotNotification(a).metadata.threadId);
    expect(new Set(threads).size).toBe(1);
    // Email and SMS still get text; SQS still gets the facts.
    const message = JSON.parse(snsMessage(alerts[0] as AnyAlert, 'chatbot'));
    expect(message.email).toBe(alerts[0]?.text);
    expect(JSON.parse(message.sqs)).toEqual(alerts[0]?.facts);
  });

  it('the schema check can fail: a body without description or with another version is refused', () => {
    expect(validate({ version: '1.0', source: 'custom', content: { title: 'x' } })).toBe(false);
    expect(validate({ version: '2.0', source: 'custom', content: { description: 'x' } })).toBe(false);
    expect(validate({ version: '1.0', source: 'custom', content: { description: 'x' }, extra: 1 })).toBe(false);
  });

  it('json: one stable dedupKey per incident and per finding, trigger then resolve', async () => {
    const alerts = await incidentAlerts();
    const events = alerts.map((a) => JSON.parse(JSON.parse(snsMessage(a, 'json')).https));
    expect(events.map((e) => `${e.action} ${e.severity} ${e.dedupKey}`)).toEqual([
      `trigger critical team-repo/${minutes(0).toISOString()}`,
      `trigger warning ${FINDINGS_ITEM_KEY}/global-sts-unreachable|sts.amazonaws.com|`,
      `trigger critical team-repo/${minutes(0).toISOString()}`,
      `resolve info team-repo/${minutes(0).toISOString()}`,
      `resolve warning ${FINDINGS_ITEM_KEY}/global-sts-unreachable|sts.amazonaws.com|`,
    ]);
    // The notification's own key differs per send, and the details are the text format's facts.
    expect(new Set(events.map((e) => e.notificationKey)).size).toBe(5);
    expect(events[0]).toEqual(webhookEvent(alerts[0] as AnyAlert));
    expect(events[0].details).toEqual(alerts[0]?.facts);
  });

  it('text (the default) keeps the facts for https', async () => {
    const [alarm] = await incidentAlerts();
    expect(JSON.parse(JSON.parse(snsMessage(alarm as AnyAlert)).https)).toEqual(alarm?.facts);
  });
});
