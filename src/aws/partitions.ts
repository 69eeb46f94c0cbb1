/**
 * AWS partitions, STS endpoints and IAM role ARNs, as pure data and functions.
 *
 * The partition table follows the SDKs' `partitions.json` (aws/aws-sdk-js-v3
 * `packages/util-endpoints/src/lib/aws/partitions.json`) and the endpoint rules follow STS's
 * `endpoint-rule-set-1.json`, so a region resolves here exactly as the AWS SDKs resolve it, apart from the
 * `*-global` pseudo-regions documented on {@link stsEndpointForRegion}.
 */

import { ConfigError } from '../errors.js';
import { isValidRoleName } from './names.js';

/** What an ARN and an endpoint URL need to know about an AWS partition. */
export interface Partition {
  /** ARN partition, e.g. `aws`, `aws-cn`, `aws-us-gov`. */
  readonly id: string;
  /** Endpoint domain, e.g. `amazonaws.com`. */
  readonly dnsSuffix: string;
  /** Dual-stack (IPv4 + IPv6) endpoint domain, e.g. `api.aws`; equals `dnsSuffix` where there is none. */
  readonly dualStackDnsSuffix: string;
  /** The region that serves the partition's global endpoint, e.g. `us-east-1`. */
  readonly implicitGlobalRegion: string;
}

/** The parts of `arn:<partition>:iam::<account>:role/<path/>name`. */
export interface ParsedRoleArn {
  readonly partition: string;
  /** 12 digits. */
  readonly accountId: string;
  /** IAM path form: `/` without a path, else `/a/b/`. */
  readonly path: string;
  readonly roleName: string;
}

interface PartitionEntry {
  readonly partition: Partition;
  readonly regionRegex: RegExp;
  /** The partition's regions known by name, including its `<id>-global` pseudo-region. */
  readonly regions: readonly string[];
  readonly supportsDualStack: boolean;
}

function entry(
  partition: Partition,
  regionRegex: RegExp,
  regions: readonly string[],
  supportsDualStack: boolean,
): PartitionEntry {
  return Object.freeze({
    partition: Object.freeze(partition),
    regionRegex,
    regions: Object.freeze(regions),
    supportsDualStack,
  });
}

const AWS: PartitionEntry = entry(
  { id: 'aws', dnsSuffix: 'amazonaws.com', dualStackDnsSuffix: 'api.aws', implicitGlobalRegion: 'us-east-1' },
  /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/,
  [
    'aws-global',
    'af-south-1',
    'ap-east-1',
    'ap-northeast-1',
    'ap-northeast-2',
    'ap-northeast-3',
    'ap-south-1',
    'ap-south-2',
    'ap-southeast-1',
    'ap-southeast-2',
    'ap-southeast-3',
    'ap-southeast-4',
    'ap-southeast-5',
    'ap-southeast-7',
    'ca-central-1',
    'ca-west-1',
    'eu-central-1',
    'eu-central-2',
    'eu-north-1',
    'eu-south-1',
    'eu-south-2',
    'eu-west-1',
    'eu-west-2',
    'eu-west-3',
    'il-central-1',
    'me-central-1',
    'me-south-1',
    'mx-central-1',
    'sa-east-1',
    'us-east-1',
    'us-east-2',
    'us-west-1',
    'us-west-2',
  ],
  true,
);

// Order matters only for the regex pass, and as in the SDKs `aws` goes first: its `\w+` cannot span a `-`,
// so `us-gov-west-1` or `us-iso-east-1` never match it.
const PARTITIONS: readonly PartitionEntry[] = Object.freeze([
  AWS,
  entry(
    {
      id: 'aws-cn',
      dnsSuffix: 'amazonaws.com.cn',
      dualStackDnsSuffix: 'api.amazonwebservices.com.cn',
      implicitGlobalRegion: 'cn-northwest-1',
    },
    /^cn-\w+-\d+$/,
    ['aws-cn-global', 'cn-north-1', 'cn-northwest-1'],
    true,
  ),
  entry(
    {
      id: 'aws-us-gov',
      dnsSuffix: 'amazonaws.com',
      dualStackDnsSuffix: 'api.aws',
      implicitGlobalRegion: 'us-gov-west-1',
    },
    /^us-gov-\w+-\d+$/,
    ['aws-us-gov-global', 'us-gov-east-1', 'us-gov-west-1'],
    true,
  ),
  entry(
    {
      id: 'aws-iso',
      dnsSuffix: 'c2s.ic.gov',
      dualStackDnsSuffix: 'c2s.ic.gov',
      implicitGlobalRegion: 'us-iso-east-1',
    },
    /^us-iso-\w+-\d+$/,
    ['aws-iso-global', 'us-iso-east-1', 'us-iso-west-1'],
    false,
  ),
  entry(
    {
      id: 'aws-iso-b',
      dnsSuffix: 'sc2s.sgov.gov',
      dualStackDnsSuffix: 'sc2s.sgov.gov',
      implicitGlobalRegion: 'us-isob-east-1',
    },
    /^us-isob-\w+-\d+$/,
    ['aws-iso-b-global', 'us-isob-east-1'],
    false,
  ),
  entry(
    {
      id: 'aws-iso-e',
      dnsSuffix: 'cloud.adc-e.uk',
      dualStackDnsSuffix: 'cloud.adc-e.uk',
      implicitGlobalRegion: 'eu-isoe-west-1',
    },
    /^eu-isoe-\w+-\d+$/,
    ['aws-iso-e-global', 'eu-isoe-west-1'],
    false,
  ),
  entry(
    {
      id: 'aws-iso-f',
      dnsSuffix: 'csp.hci.ic.gov',
      dualStackDnsSuffix: 'csp.hci.ic.gov',
      implicitGlobalRegion: 'us-isof-south-1',
    },
    /^us-isof-\w+-\d+$/,
    ['aws-iso-f-global', 'us-isof-east-1', 'us-isof-south-1'],
    false,
  ),
  entry(
    {
      id: 'aws-eusc',
      dnsSuffix: 'amazonaws.eu',
      dualStackDnsSuffix: 'amazonaws.eu',
      implicitGlobalRegion: 'eusc-de-east-1',
    },
    /^eusc-(de)-\w+-\d+$/,
    ['eusc-de-east-1'],
    false,
  ),
]);

const ENTRY_BY_REGION: ReadonlyMap<string, PartitionEntry> = new Map(
  PARTITIONS.flatMap((e) => e.regions.map((region): [string, PartitionEntry] => [region, e])),
);

const GLOBAL_PSEUDO_REGIONS: ReadonlySet<string> = new Set(
  [...ENTRY_BY_REGION.keys()].filter((region) => region.endsWith('-global')),
);

function entryForRegion(region: string): PartitionEntry {
  return ENTRY_BY_REGION.get(region) ?? PARTITIONS.find((e) => e.regionRegex.test(region)) ?? AWS;
}

/**
 * The partition of a region: the explicit region list first, then each partition's region pattern, and
 * `aws` for anything unmatched (as the SDKs do). `us-gov-west-1` → `aws-us-gov`, `cn-north-1` → `aws-cn`,
 * `aws-global` → `aws`, `aws-us-gov-global` → `aws-us-gov`.
 */
export function partitionForRegion(region: string): Partition {
  return entryForRegion(region).partition;
}

// A region is one DNS label inside the endpoint host name, hence the 63-character cap.
const REGION_SYNTAX = /^[a-z]{2,}(?:-[a-z]+)+-\d+$/;
const MAX_REGION_LENGTH = 63;

/**
 * Syntactic check that a string can be a region: lower-case `<letters>(-<letters>)+-<digits>` of at most
 * 63 characters (`us-east-1`, `us-gov-west-1`, `eusc-de-east-1`), or one of the partitions' `*-global`
 * pseudo-regions (`aws-global`, `aws-us-gov-global`, …). It does not know which regions exist: that is
 * STS's call, and new regions must work without a release of this tool.
 */
export function isValidRegion(region: string): boolean {
  return (
    GLOBAL_PSEUDO_REGIONS.has(region) || (region.length <= MAX_REGION_LENGTH && REGION_SYNTAX.test(region))
  );
}

/**
 * True when `hostname` is one of the partition's own STS hosts: the global `sts.<dnsSuffix>`, a regional,
 * FIPS or dual-stack host (`sts[-fips].<region>.<dnsSuffix or dualStackDnsSuffix>`), or an interface VPC
 * endpoint (`<id>.sts.<region>.vpce.<dnsSuffix>`). Case-insensitive; a trailing dot is ignored.
 */
export function isStsHostOfPartition(hostname: string, partition: Partition): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host === `sts.${partition.dnsSuffix}`) return true;
  for (const suffix of new Set([partition.dnsSuffix, partition.dualStackDnsSuffix])) {
    if (!host.endsWith(`.${suffix}`)) continue;
    const labels = host.slice(0, -suffix.length - 1).split('.');
    const [first, second, third, fourth] = labels;
    if (labels.length === 2 && (first === 'sts' || first === 'sts-fips') && isRegionLabel(second))
      return true;
    if (
      suffix === partition.dnsSuffix &&
      labels.length === 4 &&
      /^vpce-[a-z0-9-]+$/.test(first ?? '') &&
      second === 'sts' &&
      isRegionLabel(third) &&
      fourth === 'vpce'
    ) {
      return true;
    }
  }
  return false;
}

function isRegionLabel(label: string | undefined): boolean {
  return label !== undefined && label.length <= MAX_REGION_LENGTH && REGION_SYNTAX.test(label);
}

/** How to reach STS; both default to `false`, as `AWS_USE_FIPS_ENDPOINT` / `AWS_USE_DUALSTACK_ENDPOINT` do. */
export interface StsEndpointOptions {
  readonly useFips?: boolean | undefined;
  readonly useDualStack?: boolean | undefined;
}

/**
 * The STS endpoint URL (no trailing slash) for a region, following STS's endpoint rules:
 * - regional `https://sts.<region>.<dnsSuffix>`;
 * - FIPS `https://sts-fips.<region>.<dnsSuffix>`, except GovCloud, whose regional endpoints are already
 *   FIPS: `https://sts.<region>.amazonaws.com`;
 * - dual-stack `https://sts.<region>.<dualStackDnsSuffix>`; FIPS and dual-stack together
 *   `https://sts-fips.<region>.<dualStackDnsSuffix>`;
 * - `aws-global` → the global endpoint `https://sts.amazonaws.com`.
 *
 * Unlike the SDK rules, a `*-global` pseudo-region with FIPS or dual-stack (and any `*-global` other than
 * `aws-global`) uses the partition's implicit global region instead, because the SDKs' literal result
 * (e.g. `sts-fips.aws-global.amazonaws.com`) names a host that does not exist:
 * `aws-global` + FIPS → `https://sts-fips.us-east-1.amazonaws.com`,
 * `aws-us-gov-global` → `https://sts.us-gov-west-1.amazonaws.com`.
 *
 * @throws ConfigError `InvalidRegion` when {@link isValidRegion} rejects the region (it becomes part of a
 * host name), `DualStackNotSupported` when the partition has no dual-stack endpoints (the ISO partitions
 * and `aws-eusc`).
 */
export function stsEndpointForRegion(region: string, options: StsEndpointOptions = {}): string {
  if (!isValidRegion(region)) {
    throw new ConfigError({
      code: 'InvalidRegion',
      message: `Expected an AWS region such as us-east-1, got ${JSON.stringify(region)}.`,
      hint: 'Set AWS_REGION (or the region option) to the region whose STS endpoint should be used, e.g. us-east-1.',
    });
  }
  const useFips = options.useFips === true;
  const useDualStack = options.useDualStack === true;
  if (region === 'aws-global' && !useFips && !useDualStack) {
    return 'https://sts.amazonaws.com';
  }
  const { partition, supportsDualStack } = entryForRegion(region);
  const host = GLOBAL_PSEUDO_REGIONS.has(region) ? partition.implicitGlobalRegion : region;
  if (useDualStack && !supportsDualStack) {
    throw new ConfigError({
      code: 'DualStackNotSupported',
      message: `STS has no dual-stack endpoint in partition ${partition.id} (region ${region}).`,
      hint: 'Turn dual-stack off for this region (AWS_USE_DUALSTACK_ENDPOINT=false / use_dualstack_endpoint).',
    });
  }
  if (useFips && useDualStack) {
    return `https://sts-fips.${host}.${partition.dualStackDnsSuffix}`;
  }
  if (useFips) {
    return partition.id === 'aws-us-gov'
      ? `https://sts.${host}.amazonaws.com`
      : `https://sts-fips.${host}.${partition.dnsSuffix}`;
  }
  if (useDualStack) {
    return `https://sts.${host}.${partition.dualStackDnsSuffix}`;
  }
  return `https://sts.${host}.${partition.dnsSuffix}`;
}

const ACCOUNT_ID = /^\d{12}$/;
/** One path segment: printable ASCII except `/` (IAM path characters are U+0021–U+007E). */
const PATH_SEGMENT = /^[\u0021-\u002E\u0030-\u007E]+$/;
const MAX_PATH_LENGTH = 512;
const MAX_ARN_LENGTH = 2048;
const ROLE_ARN = /^arn:(aws(?:-[a-z]+)*):iam::(\d{12}):role\/(.+)$/;

interface SplitRole {
  readonly path: string;
  readonly roleName: string;
}

/**
 * Splits `a/b/name` into path `/a/b/` and name `name`, or returns `undefined` when the name or the path
 * breaks IAM's rules. Empty path segments (`a//b`) are refused: IAM paths are meant as `/a/b/`.
 */
function splitRolePath(pathAndName: string): SplitRole | undefined {
  const segments = pathAndName.split('/');
  const roleName = segments.pop() ?? '';
  if (!isValidRoleName(roleName) || !segments.every((s) => PATH_SEGMENT.test(s))) {
    return undefined;
  }
  const path = segments.length === 0 ? '/' : `/${segments.join('/')}/`;
  return path.length <= MAX_PATH_LENGTH ? { path, roleName } : undefined;
}

/**
 * The ARN of an IAM role: `roleArn(aws, '123456789012', 'ci/deployer')` →
 * `arn:aws:iam::123456789012:role/ci/deployer`. A leading `/` on the path is accepted (`/ci/deployer`).
 *
 * @throws ConfigError `InvalidAccountId` unless the account is 12 digits; `InvalidRoleName` unless the name
 * is a valid IAM role name and the path is made of non-empty segments of printable ASCII, ≤ 512 characters.
 */
export function roleArn(partition: Partition, accountId: string, roleNameOrPath: string): string {
  if (!ACCOUNT_ID.test(accountId)) {
    throw new ConfigError({
      code: 'InvalidAccountId',
      message: `Expected a 12-digit AWS account id, got ${JSON.stringify(accountId)}.`,
      hint: 'Use the account id exactly as IAM shows it, with leading zeros and without dashes.',
    });
  }
  const bare = roleNameOrPath.startsWith('/') ? roleNameOrPath.slice(1) : roleNameOrPath;
  const split = splitRolePath(bare);
  if (split === undefined) {
    throw new ConfigError({
      code: 'InvalidRoleName',
      message: `Expected an IAM role name, optionally with a path (ci/deployer), got ${JSON.stringify(roleNameOrPath)}.`,
      hint: 'Role names are 1-64 characters from A-Z a-z 0-9 _ + = , . @ -; a path is prefixed as path/name.',
    });
  }
  return `arn:${partition.id}:iam::${accountId}:role${split.path}${split.roleName}`;
}

/**
 * Parses `arn:<partition>:iam::<12 digits>:role/<path/>name` strictly: the partition must look like an AWS
 * partition id (`aws` or `aws-<letters>…`, so future partitions parse), the account must be 12 digits, the
 * name valid for IAM and the path made of non-empty printable-ASCII segments. Anything else, including an
 * assumed-role or user ARN, gives `undefined`.
 */
export function parseRoleArn(arn: string): ParsedRoleArn | undefined {
  if (arn.length > MAX_ARN_LENGTH) {
    return undefined;
  }
  const match = ROLE_ARN.exec(arn);
  const [, partition, accountId, pathAndName] = match ?? [];
  if (partition === undefined || accountId === undefined || pathAndName === undefined) {
    return undefined;
  }
  const split = splitRolePath(pathAndName);
  return split === undefined
    ? undefined
    : { partition, accountId, path: split.path, roleName: split.roleName };
}
