/**
 * Reads the IAM role out of a Terraform configuration as Terraform would apply it, for tests of
 * `role-template --format terraform`: HashiCorp's own HCL parser (WebAssembly, @cdktf/hcl2json)
 * parses the text, interpolations are replaced by the values Terraform would have (locals, the
 * partition and account data sources, the provider's ARN), and each `aws_iam_policy_document` is
 * rendered the way the AWS provider renders it (a one-element list becomes a plain string).
 */
import { parse } from '@cdktf/hcl2json';

export interface TerraformRole {
  readonly roleName: string;
  readonly path: string;
  readonly maxSessionDuration: number;
  readonly trustPolicy: Record<string, unknown>;
}

type Blocks = Record<string, Record<string, Array<Record<string, unknown>>>>;

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${what}: not a block`);
  return value as Record<string, unknown>;
}

function only(list: unknown, what: string): Record<string, unknown> {
  if (!Array.isArray(list) || list.length !== 1) throw new Error(`${what}: expected exactly one block`);
  return record(list[0], what);
}

function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a list`);
  return value;
}

/** One value or a list, as the AWS provider writes policy JSON. */
function collapse(values: string[]): string | string[] {
  return values.length === 1 ? (values[0] as string) : values;
}

export async function loadTerraformRole(
  hcl: string,
  context: { readonly accountId: string; readonly partition: string },
): Promise<TerraformRole> {
  const parsed = (await parse('main.tf', hcl)) as {
    locals?: Array<Record<string, unknown>>;
    data?: Blocks;
    resource?: Blocks;
  };
  const locals: Record<string, unknown> = Object.assign({}, ...(parsed.locals ?? []));
  const resources = parsed.resource ?? {};
  const data = parsed.data ?? {};
  const provider = resources.aws_iam_openid_connect_provider?.gitlab?.[0];

  const references: Record<string, () => string> = {
    'data.aws_partition.current.partition': () => context.partition,
    'data.aws_caller_identity.current.account_id': () => context.accountId,
    'aws_iam_openid_connect_provider.gitlab.arn': () => {
      if (provider === undefined) throw new Error('aws_iam_openid_connect_provider.gitlab is not defined');
      const url = interpolate(provider.url, 'provider url');
      return `arn:${context.partition}:iam::${context.accountId}:oidc-provider/${url.replace(/^https:\/\//, '')}`;
    },
  };
  function interpolate(value: unknown, what: string): string {
    if (typeof value !== 'string')
      throw new Error(`${what}: expected a string, got ${JSON.stringify(value)}`);
    return value.replace(/\$\{([^}]+)\}/g, (_whole, expression: string) => {
      const name = expression.trim();
      if (name.startsWith('local.')) return interpolate(locals[name.slice('local.'.length)], name);
      const reference = references[name];
      if (reference === undefined) throw new Error(`${what}: cannot evaluate \${${name}}`);
      return reference();
    });
  }

  const documents = data.aws_iam_policy_document ?? {};
  const renderDocument = (name: string): Record<string, unknown> => {
    const document = only(documents[name], `aws_iam_policy_document.${name}`);
    const statements = list(document.statement, `${name}.statement`).map((raw, i) => {
      const statement = record(raw, `${name}.statement[${i}]`);
      const rendered: Record<string, unknown> = {
        Effect: typeof statement.effect === 'string' ? statement.effect : 'Allow',
        Action: collapse(list(statement.actions, 'actions').map((action) => interpolate(action, 'actions'))),
      };
      if (statement.resources !== undefined) {
        rendered.Resource = collapse(
          list(statement.resources, 'resources').map((r) => interpolate(r, 'resources')),
        );
      }
      if (statement.principals !== undefined) {
        const principals: Record<string, string | string[]> = {};
        for (const principal of list(statement.principals, 'principals').map((p) =>
          record(p, 'principals'),
        )) {
          principals[interpolate(principal.type, 'type')] = collapse(
            list(principal.identifiers, 'identifiers').map((id) => interpolate(id, 'identifiers')),
          );
        }
        rendered.Principal = principals;
      }
      if (statement.condition !== undefined) {
        const conditions: Record<string, Record<string, string | string[]>> = {};
        for (const condition of list(statement.condition, 'condition').map((c) => record(c, 'condition'))) {
          const test = interpolate(condition.test, 'test');
          conditions[test] = {
            ...conditions[test],
            [interpolate(condition.variable, 'variable')]: collapse(
              list(condition.values, 'values').map((v) => interpolate(v, 'values')),
            ),
          };
        }
        rendered.Condition = conditions;
      }
      return rendered;
    });
    return { Version: '2012-10-17', Statement: statements };
  };

  const role = only(resources.aws_iam_role?.gitlab, 'aws_iam_role.gitlab');
  const policyReference = /^\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_]+)\.json\}$/.exec(
    String(role.assume_role_policy),
  );
  if (policyReference?.[1] === undefined)
    throw new Error('assume_role_policy is not a policy document data source');
  return {
    roleName: interpolate(role.name, 'name'),
    path: typeof role.path === 'string' ? interpolate(role.path, 'path') : '/',
    maxSessionDuration: typeof role.max_session_duration === 'number' ? role.max_session_duration : 3600,
    trustPolicy: renderDocument(policyReference[1]),
  };
}
