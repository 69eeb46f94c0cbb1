import { describe, expect, it } from 'vitest';
import { type ExchangeContext, toExchangeError } from './errors.js';

const CONTEXT: ExchangeContext = {
  roleArn: 'arn:aws:iam::123456789012:role/gitlab-demo',
  endpoint: 'https://sts.us-east-1.amazonaws.com',
  durationSeconds: 3600,
  region: 'us-east-1',
  token: { iss: 'https://gitlab.example.com', sub: 'project_path:a/b:ref_type:branch:ref:main' },
};

/** What the AWS SDK throws for a modelled STS error answer. */
function sdkError(name: string, message: string) {
  return Object.assign(new Error(message), {
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: 400, requestId: 'req-1' },
  });
}

describe('toExchangeError on policy errors, though no session policy is ever sent', () => {
  it('explains PackedPolicyTooLarge by the session tags of the token', () => {
    const error = toExchangeError(
      sdkError('PackedPolicyTooLargeException', 'Packed policy consumes 112% of allotted space'),
      CONTEXT,
    );
    expect(error).toMatchObject({ code: 'PackedPolicyTooLarge', retryable: false, requestId: 'req-1' });
    expect(error.message).toMatch(/session tags of the token too large/);
    expect(`${error.message} ${error.hint}`).not.toMatch(/session policy/);
  });

  it('calls a MalformedPolicyDocument answer unexpected and points at the endpoint', () => {
    const error = toExchangeError(
      sdkError('MalformedPolicyDocumentException', 'Syntax errors in policy.'),
      CONTEXT,
    );
    expect(error.code).toBe('MalformedPolicyDocument');
    expect(error.message).toMatch(/this tool sends no session policy/);
    expect(error.hint).toContain(CONTEXT.endpoint);
  });
});
