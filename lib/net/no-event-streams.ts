/**
 * Stands in for `@smithy/core/event-streams` in the Lambda bundles (infra/lambda-bundle.cjs): no call the functions
 * make (AssumeRole, PutMetricData, Publish, GetItem, Scan, TransactWriteItems) streams events, and the SDK's
 * dynamic import of the real module made esbuild wrap most of `@smithy/core` in lazy closures it cannot tree-shake.
 */
const NOT_BUNDLED = '@smithy/core/event-streams is not bundled: no call the functions make streams events';

export class EventStreamSerde {
  constructor() {
    throw new Error(NOT_BUNDLED);
  }
}

export const eventStreamSerdeProvider = (): never => {
  throw new Error(NOT_BUNDLED);
};
