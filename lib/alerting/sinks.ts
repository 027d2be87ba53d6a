/**
 * Where alerts go: SNS for the stack, the console for the demo and the CLI. A sink never throws: a failed
 * delivery is data, and the caller (lib/alerting/notify.ts) keeps the notification owed.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Logger, Writer } from '../log.ts';
import { type BoundedClientOptions, boundedClientConfig, describeError } from '../net/aws-clients.ts';
import { untilAborted } from '../net/deadline.ts';
import type { AlertFormat } from './chat.ts';
import { type AnyAlert, redact, snsMessage } from './text.ts';

/**
 * A failed delivery is `transient` when SNS did not answer, answered 5xx or throttled: the next publish would
 * likely fail too. Otherwise SNS refused this one message (or the caller's rights), and others may still pass.
 */
export type Delivery =
  | { delivered: true; messageId?: string }
  | { delivered: false; reason: string; transient: boolean };

/** No answer, a 5xx, or throttling. */
export function isTransientSnsError(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = error instanceof Error ? error.name : '';
  return status === undefined || status >= 500 || status === 429 || /thrott/i.test(name);
}

/** Where alerts go. `send` never throws. */
export interface AlertSink {
  send(alert: AnyAlert): Promise<Delivery>;
}

/**
 * The structured line that keeps an alert that could not be delivered (search the logs for its type).
 *
 * @example
 * logUndeliveredAlert(logger, alert, 'SNS Publish failed: TimeoutError: …')
 * // {"type":"codecommit-canary/undelivered-alert","level":"error","message":"alert not delivered: [ALARM] …","facts":{…}}
 */
export function logUndeliveredAlert(logger: Logger, alert: AnyAlert, reason: string): void {
  logger.error(`alert not delivered: ${alert.subject}`, {
    type: 'codecommit-canary/undelivered-alert',
    reason: redact(reason),
    subject: alert.subject,
    attributes: alert.attributes,
    facts: alert.facts,
  });
}

/**
 * An SNS client that cannot hang (timeouts, 2 attempts); build it once at module load.
 *
 * @example
 * const sns = createSnsClient({ region: process.env.AWS_REGION ?? 'us-east-1' });
 */
export const createSnsClient = (options: BoundedClientOptions): SNSClient =>
  new SNSClient(boundedClientConfig(options));

export interface SnsAlertSinkOptions {
  /**
   * The client, or how to build it on the first publish: most notifier invocations (and direct-mode runs) publish
   * nothing, so the stack's sink builds its client only when it has something to send (lib/run/alert-path.ts).
   */
  client: SNSClient | (() => SNSClient);
  topicArn: string;
  logger: Logger;
  /** Hard deadline for one Publish including retries (ms). Default 5000. */
  deadlineMs?: number;
  /** What http(s) subscribers get (`alerts.format`); default `text`: the facts. */
  format?: AlertFormat | undefined;
}

/**
 * Publishes alerts to an SNS topic.
 *
 * @example
 * const sink = new SnsAlertSink({ client: createSnsClient({ region }), topicArn: process.env.CANARY_TOPIC_ARN!, logger });
 */
export class SnsAlertSink implements AlertSink {
  readonly #options: SnsAlertSinkOptions;
  #client: SNSClient | undefined;

  constructor(options: SnsAlertSinkOptions) {
    this.#options = options;
  }

  #clientOnce(): SNSClient {
    const { client } = this.#options;
    this.#client ??= typeof client === 'function' ? client() : client;
    return this.#client;
  }

  async send(alert: AnyAlert): Promise<Delivery> {
    const { topicArn, logger } = this.#options;
    const client = this.#clientOnce();
    const attribute = (value: string) => ({ DataType: 'String', StringValue: value || 'none' });
    const abortSignal = AbortSignal.timeout(this.#options.deadlineMs ?? 5000);
    try {
      const output = await untilAborted(
        client.send(
          new PublishCommand({
            TopicArn: topicArn,
            Subject: alert.subject,
            Message: snsMessage(alert, this.#options.format),
            MessageStructure: 'json',
            MessageAttributes: {
              target: attribute(alert.attributes.target),
              step: attribute(alert.attributes.step),
              kind: attribute(alert.attributes.kind),
              state: attribute(alert.attributes.state),
              dedupKey: attribute(alert.attributes.dedupKey),
              ...(alert.attributes.severity ? { severity: attribute(alert.attributes.severity) } : {}),
            },
          }),
          { abortSignal },
        ),
        abortSignal,
      );
      // Owed until SNS says it has the message: an answer without a MessageId proves nothing.
      if (!output.MessageId) {
        return { delivered: false, reason: `SNS Publish to ${topicArn}: no MessageId in the answer`, transient: true };
      }
      logger.info(`alert sent: ${alert.subject}`, {
        target: alert.attributes.target,
        state: alert.attributes.state,
        dedupKey: alert.dedupKey,
        messageId: output.MessageId,
      });
      return { delivered: true, messageId: output.MessageId };
    } catch (error) {
      return {
        delivered: false,
        reason: redact(`SNS Publish to ${topicArn} failed: ${describeError(error)}`),
        transient: isTransientSnsError(error),
      };
    }
  }
}

/**
 * Prints alerts for people (the local demo, the CLI).
 *
 * @example
 * await new ConsoleAlertSink().send(alert) // prints '=== [ALARM] … ===' and the text
 */
export class ConsoleAlertSink implements AlertSink {
  constructor(private readonly writer: Writer = process.stdout) {}

  async send(alert: AnyAlert): Promise<Delivery> {
    this.writer.write(`\n=== ${alert.subject} ===\n${alert.text}`);
    return { delivered: true };
  }
}
