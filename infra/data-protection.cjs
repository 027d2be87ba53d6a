'use strict';

/**
 * The CloudWatch Logs data protection policy of both functions' log groups. Nothing the canary writes should
 * ever hold a credential (lib/alerting/text.ts redacts, the tests scan every output); this is the tripwire
 * behind that: AWS secret keys (AWS's managed identifier, which needs a keyword such as `secret access key`
 * or `credentials` nearby) and the shape of a CodeCommit Basic username, `ASIA<16>%<session token>`, are audited
 * (the findings show as the AWS/Logs LogEventsWithFindings metric) and masked. A finding means a leak.
 *
 * Custom identifiers take a regex of at most 200 characters from a small alphabet without `%`: `.` stands for the
 * separator (`%`, or `%25` URL-encoded, whose `25` the token class then matches).
 */

const CODECOMMIT_USERNAME = { Name: 'CodeCommitBasicUsername', Regex: 'ASIA[A-Z0-9]{16}.[A-Za-z0-9/+=]{16}' };

const identifiers = () => [
  { 'Fn::Sub': 'arn:${AWS::Partition}:dataprotection::aws:data-identifier/AwsSecretKey' },
  CODECOMMIT_USERNAME.Name,
];

/** The policy document (version 2021-06-01): one audit statement (no findings destination: metrics only), one mask. */
const logDataProtectionPolicy = () => ({
  Name: 'codecommit-canary-credentials',
  Description: 'Tripwire: AWS secret keys and CodeCommit Basic usernames must never reach this log',
  Version: '2021-06-01',
  Configuration: { CustomDataIdentifier: [CODECOMMIT_USERNAME] },
  Statement: [
    { Sid: 'audit', DataIdentifier: identifiers(), Operation: { Audit: { FindingsDestination: {} } } },
    { Sid: 'mask', DataIdentifier: identifiers(), Operation: { Deidentify: { MaskConfig: {} } } },
  ],
});

module.exports = { CODECOMMIT_USERNAME, logDataProtectionPolicy };
