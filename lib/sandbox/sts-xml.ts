/**
 * STS's answers in its wire format (AWS query protocol: XML, one line as the service sends it), so the SDK's
 * STS client parses them exactly as it parses AWS's.
 */
import { randomUUID } from 'node:crypto';
import type { AwsCredentials } from '../steps/git/password.ts';

const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

export const xmlEscape = (text: string): string =>
  text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);

const metadata = () => `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>`;

/**
 * AssumeRole's answer: the credentials, and the assumed-role user in the role's account.
 *
 * @example
 * assumeRoleXml(issued, 'arn:aws:iam::111111111111:role/SwitchRole', 'canary') // '<AssumeRoleResponse …'
 */
export function assumeRoleXml(
  credentials: Required<AwsCredentials> & { expiration?: Date },
  roleArn: string,
  session: string,
): string {
  const [, , , , account = '000000000000', resource = 'role/unknown'] = roleArn.split(':');
  const roleName = xmlEscape(resource.split('/').at(-1) ?? '');
  const expiration = (credentials.expiration ?? new Date(Date.now() + 15 * 60_000)).toISOString();
  const user = xmlEscape(session);
  return (
    `<AssumeRoleResponse xmlns="${NAMESPACE}"><AssumeRoleResult>` +
    `<Credentials><AccessKeyId>${credentials.accessKeyId}</AccessKeyId>` +
    `<SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey>` +
    `<SessionToken>${credentials.sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
    `<AssumedRoleUser><AssumedRoleId>AROAEXAMPLEROLEID0001:${user}</AssumedRoleId>` +
    `<Arn>arn:aws:sts::${account}:assumed-role/${roleName}/${user}</Arn></AssumedRoleUser>` +
    `<PackedPolicySize>6</PackedPolicySize></AssumeRoleResult>${metadata()}</AssumeRoleResponse>`
  );
}

/** GetCallerIdentity's answer. */
export const callerIdentityXml = (identity: { account: string; arn: string; userId: string }): string =>
  `<GetCallerIdentityResponse xmlns="${NAMESPACE}"><GetCallerIdentityResult>` +
  `<Arn>${xmlEscape(identity.arn)}</Arn><UserId>${xmlEscape(identity.userId)}</UserId>` +
  `<Account>${identity.account}</Account></GetCallerIdentityResult>${metadata()}</GetCallerIdentityResponse>`;

/** An STS error document, as STS sends it with a 4xx or 5xx. */
export const stsErrorXml = (type: 'Sender' | 'Receiver', code: string, message: string): string =>
  `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${type}</Type><Code>${xmlEscape(code)}</Code>` +
  `<Message>${xmlEscape(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
