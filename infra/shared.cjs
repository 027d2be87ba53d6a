'use strict';

/**
 * Shared by the infra files: the one error a bad parameter or config is reported with, and the two
 * CloudFormation references every fragment uses.
 */

/**
 * A bad parameter or config, reported as one line that says how to fix it. The stack is cut to the message
 * because the CLI prints `error.stack` verbatim, and a trace into these files helps nobody.
 */
class CanaryDeployError extends Error {
  constructor(message) {
    super(message);
    this.name = 'CanaryDeployError';
    this.stack = `${this.name}: ${message}`;
  }
}

const ref = (logicalId) => ({ Ref: logicalId });
const arnOf = (logicalId) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

module.exports = { CanaryDeployError, ref, arnOf };
