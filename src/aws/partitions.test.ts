import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import {
  isStsHostOfPartition,
  isValidRegion,
  type Partition,
  parseRoleArn,
  partitionForRegion,
  roleArn,
  stsEndpointForRegion,
} from './partitions.js';

describe('partitionForRegion', () => {
  it.each<[string, Partition]>([
    [
      'us-east-1',
      {
        id: 'aws',
        dnsSuffix: 'amazonaws.com',
        dualStackDnsSuffix: 'api.aws',
        implicitGlobalRegion: 'us-east-1',
      },
    ],
    [
      'cn-north-1',
      {
        id: 'aws-cn',
        dnsSuffix: 'amazonaws.com.cn',
        dualStackDnsSuffix: 'api.amazonwebservices.com.cn',
        implicitGlobalRegion: 'cn-northwest-1',
      },
    ],
    [
      'us-gov-west-1',
      {
        id: 'aws-us-gov',
        dnsSuffix: 'amazonaws.com',
        dualStackDnsSuffix: 'api.aws',
        implicitGlobalRegion: 'us-gov-west-1',
      },
    ],
    [
      'us-iso-east-1',
      {
        id: 'aws-iso',
        dnsSuffix: 'c2s.ic.gov',
        dualStackDnsSuffix: 'c2s.ic.gov',
        implicitGlobalRegion: 'us-iso-east-1',
      },
    ],
    [
      'us-isob-east-1',
      {
        id: 'aws-iso-b',
        dnsSuffix: 'sc2s.sgov.gov',
        dualStackDnsSuffix: 'sc2s.sgov.gov',
        implicitGlobalRegion: 'us-isob-east-1',
      },
    ],
    [
      'eu-isoe-west-1',
      {
        id: 'aws-iso-e',
        dnsSuffix: 'cloud.adc-e.uk',
        dualStackDnsSuffix: 'cloud.adc-e.uk',
        implicitGlobalRegion: 'eu-isoe-west-1',
      },
    ],
    [
      'us-isof-south-1',
      {
        id: 'aws-iso-f',
        dnsSuffix: 'csp.hci.ic.gov',
        dualStackDnsSuffix: 'csp.hci.ic.gov',
        implicitGlobalRegion: 'us-isof-south-1',
      },
    ],
    [
      'eusc-de-east-1',
      {
        id: 'aws-eusc',
        dnsSuffix: 'amazonaws.eu',
        dualStackDnsSuffix: 'amazonaws.eu',
        implicitGlobalRegion: 'eusc-de-east-1',
      },
    ],
  ])('%s → full partition data', (region, expected) => {
    expect(partitionForRegion(region)).toEqual(expected);
  });

  it.each([
    // explicit region list
    ['aws-global', 'aws'],
    ['eu-central-2', 'aws'],
    ['mx-central-1', 'aws'],
    ['cn-northwest-1', 'aws-cn'],
    ['aws-cn-global', 'aws-cn'],
    ['us-gov-east-1', 'aws-us-gov'],
    ['aws-us-gov-global', 'aws-us-gov'],
    ['aws-iso-global', 'aws-iso'],
    ['us-iso-west-1', 'aws-iso'],
    ['aws-iso-b-global', 'aws-iso-b'],
    ['aws-iso-e-global', 'aws-iso-e'],
    ['aws-iso-f-global', 'aws-iso-f'],
    ['us-isof-east-1', 'aws-iso-f'],
    // region patterns, for regions newer than the table
    ['ap-southeast-9', 'aws'],
    ['me-west-1', 'aws'],
    ['cn-south-1', 'aws-cn'],
    ['us-gov-central-1', 'aws-us-gov'],
    ['us-iso-central-2', 'aws-iso'],
    ['us-isob-west-1', 'aws-iso-b'],
    ['eu-isoe-north-1', 'aws-iso-e'],
    ['us-isof-west-1', 'aws-iso-f'],
    ['eusc-de-west-1', 'aws-eusc'],
    // fallback
    ['eusc-fr-east-1', 'aws'],
    ['xx-nowhere-1', 'aws'],
    ['', 'aws'],
    ['US-EAST-1', 'aws'],
  ])('%j → %s', (region, id) => {
    expect(partitionForRegion(region).id).toBe(id);
  });

  it('returns frozen shared data', () => {
    expect(Object.isFrozen(partitionForRegion('us-east-1'))).toBe(true);
  });
});

describe('isValidRegion', () => {
  it.each([
    ['us-east-1', true],
    ['us-gov-west-1', true],
    ['us-isob-east-1', true],
    ['eusc-de-east-1', true],
    ['ap-southeast-12', true],
    ['aws-global', true],
    ['aws-us-gov-global', true],
    ['aws-cn-global', true],
    ['aws-iso-b-global', true],
    ['xx-new-1', true], // syntactic only
    ['', false],
    ['us-east', false],
    ['us-east-1a', false],
    ['US-EAST-1', false],
    ['us_east_1', false],
    ['us-east-1 ', false],
    ['us-east-1.evil.com', false],
    ['us-east-1/path', false],
    ['u-east-1', false],
    ['aws-mars-global', false],
    ['local', false],
    [`us-${'a'.repeat(58)}-1`, true], // 63 characters: a full DNS label
    [`us-${'a'.repeat(59)}-1`, false], // 64 characters: longer than a DNS label
  ])('%j → %s', (region, valid) => {
    expect(isValidRegion(region)).toBe(valid);
  });
});

describe('stsEndpointForRegion', () => {
  type Case = [string, { useFips?: boolean; useDualStack?: boolean }, string];
  it.each<Case>([
    // regional, every partition
    ['us-east-1', {}, 'https://sts.us-east-1.amazonaws.com'],
    ['eu-west-1', {}, 'https://sts.eu-west-1.amazonaws.com'],
    ['cn-north-1', {}, 'https://sts.cn-north-1.amazonaws.com.cn'],
    ['us-gov-west-1', {}, 'https://sts.us-gov-west-1.amazonaws.com'],
    ['us-iso-east-1', {}, 'https://sts.us-iso-east-1.c2s.ic.gov'],
    ['us-isob-east-1', {}, 'https://sts.us-isob-east-1.sc2s.sgov.gov'],
    ['eu-isoe-west-1', {}, 'https://sts.eu-isoe-west-1.cloud.adc-e.uk'],
    ['us-isof-south-1', {}, 'https://sts.us-isof-south-1.csp.hci.ic.gov'],
    ['eusc-de-east-1', {}, 'https://sts.eusc-de-east-1.amazonaws.eu'],
    ['ap-southeast-9', {}, 'https://sts.ap-southeast-9.amazonaws.com'],
    // explicit false is the default
    ['us-east-1', { useFips: false, useDualStack: false }, 'https://sts.us-east-1.amazonaws.com'],
    // FIPS
    ['us-east-1', { useFips: true }, 'https://sts-fips.us-east-1.amazonaws.com'],
    ['cn-north-1', { useFips: true }, 'https://sts-fips.cn-north-1.amazonaws.com.cn'],
    ['us-iso-east-1', { useFips: true }, 'https://sts-fips.us-iso-east-1.c2s.ic.gov'],
    ['us-isob-east-1', { useFips: true }, 'https://sts-fips.us-isob-east-1.sc2s.sgov.gov'],
    ['eu-isoe-west-1', { useFips: true }, 'https://sts-fips.eu-isoe-west-1.cloud.adc-e.uk'],
    ['us-isof-south-1', { useFips: true }, 'https://sts-fips.us-isof-south-1.csp.hci.ic.gov'],
    ['eusc-de-east-1', { useFips: true }, 'https://sts-fips.eusc-de-east-1.amazonaws.eu'],
    // GovCloud: the regional endpoint is the FIPS endpoint
    ['us-gov-west-1', { useFips: true }, 'https://sts.us-gov-west-1.amazonaws.com'],
    ['us-gov-east-1', { useFips: true }, 'https://sts.us-gov-east-1.amazonaws.com'],
    // dual-stack
    ['us-east-1', { useDualStack: true }, 'https://sts.us-east-1.api.aws'],
    ['cn-northwest-1', { useDualStack: true }, 'https://sts.cn-northwest-1.api.amazonwebservices.com.cn'],
    ['us-gov-east-1', { useDualStack: true }, 'https://sts.us-gov-east-1.api.aws'],
    // FIPS + dual-stack (no GovCloud exception in the rules here)
    ['us-west-2', { useFips: true, useDualStack: true }, 'https://sts-fips.us-west-2.api.aws'],
    ['us-gov-west-1', { useFips: true, useDualStack: true }, 'https://sts-fips.us-gov-west-1.api.aws'],
    [
      'cn-north-1',
      { useFips: true, useDualStack: true },
      'https://sts-fips.cn-north-1.api.amazonwebservices.com.cn',
    ],
    // global and pseudo-global regions
    ['aws-global', {}, 'https://sts.amazonaws.com'],
    ['aws-global', { useFips: true }, 'https://sts-fips.us-east-1.amazonaws.com'],
    ['aws-global', { useDualStack: true }, 'https://sts.us-east-1.api.aws'],
    ['aws-us-gov-global', {}, 'https://sts.us-gov-west-1.amazonaws.com'],
    ['aws-us-gov-global', { useFips: true }, 'https://sts.us-gov-west-1.amazonaws.com'],
    ['aws-cn-global', {}, 'https://sts.cn-northwest-1.amazonaws.com.cn'],
    ['aws-iso-global', {}, 'https://sts.us-iso-east-1.c2s.ic.gov'],
    ['aws-iso-f-global', {}, 'https://sts.us-isof-south-1.csp.hci.ic.gov'],
  ])('%s %j → %s', (region, options, expected) => {
    expect(stsEndpointForRegion(region, options)).toBe(expected);
  });

  it('defaults to the regional endpoint without options', () => {
    expect(stsEndpointForRegion('eu-central-1')).toBe('https://sts.eu-central-1.amazonaws.com');
  });

  it.each(['us-iso-east-1', 'us-isob-east-1', 'eu-isoe-west-1', 'us-isof-south-1', 'eusc-de-east-1'])(
    'refuses dual-stack in %s, whose partition has none',
    (region) => {
      for (const useFips of [false, true]) {
        expect(() => stsEndpointForRegion(region, { useFips, useDualStack: true })).toThrow(
          expect.objectContaining({ name: 'ConfigError', code: 'DualStackNotSupported' }),
        );
      }
    },
  );

  it.each(['', 'us-east-1.evil.com', 'evil.com/x?', 'US-EAST-1', 'us-east-1\n', 'local'])(
    'refuses %j, which would end up in a host name',
    (region) => {
      let thrown: unknown;
      try {
        stsEndpointForRegion(region);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect(thrown).toMatchObject({ code: 'InvalidRegion', origin: 'config' });
      expect((thrown as ConfigError).message).toContain(JSON.stringify(region));
      expect((thrown as ConfigError).hint).toBeTruthy();
    },
  );

  it('always yields an https URL whose host is a DNS name, for any valid region', () => {
    const region = fc.stringMatching(/^[a-z]{2,6}(-[a-z]{1,8}){1,3}-\d{1,2}$/);
    fc.assert(
      fc.property(region, fc.boolean(), (r, useFips) => {
        const url = new URL(stsEndpointForRegion(r, { useFips }));
        expect(url.protocol).toBe('https:');
        expect(url.pathname).toBe('/');
        expect(url.host.endsWith(`.${partitionForRegion(r).dnsSuffix}`)).toBe(true);
        expect(url.host).toContain(r);
      }),
    );
  });
});

describe('isStsHostOfPartition', () => {
  const REGIONS = [
    'us-east-1',
    'eu-west-1',
    'aws-global',
    'cn-north-1',
    'us-gov-west-1',
    'us-iso-east-1',
    'eusc-de-east-1',
  ];

  it('recognises every endpoint stsEndpointForRegion gives, in the partition of its region', () => {
    let checked = 0;
    for (const region of REGIONS) {
      for (const useFips of [false, true]) {
        for (const useDualStack of [false, true]) {
          let endpoint: string;
          try {
            endpoint = stsEndpointForRegion(region, { useFips, useDualStack });
          } catch {
            continue; // no dual-stack in that partition
          }
          expect(isStsHostOfPartition(new URL(endpoint).hostname, partitionForRegion(region)), endpoint).toBe(
            true,
          );
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });

  it.each<[string, string, boolean]>([
    ['STS.EU-WEST-1.AMAZONAWS.COM.', 'eu-west-1', true],
    ['vpce-0a1b2c3d4e5f-abcdefgh.sts.eu-west-1.vpce.amazonaws.com', 'eu-west-1', true],
    ['sts.cn-north-1.amazonaws.com.cn', 'us-east-1', false],
    ['sts.us-east-1.amazonaws.com', 'cn-north-1', false],
    ['localhost', 'us-east-1', false],
    ['127.0.0.1', 'us-east-1', false],
    ['localstack', 'us-east-1', false],
    ['s3.us-east-1.amazonaws.com', 'us-east-1', false],
    ['sts.us-east-1.amazonaws.com.attacker.example', 'us-east-1', false],
    ['evil.sts.us-east-1.amazonaws.com', 'us-east-1', false],
    ['minio.example.com', 'us-east-1', false],
  ])('%s in the partition of %s → %s', (host, region, expected) => {
    expect(isStsHostOfPartition(host, partitionForRegion(region))).toBe(expected);
  });
});

describe('roleArn', () => {
  const aws = partitionForRegion('us-east-1');
  const gov = partitionForRegion('us-gov-west-1');
  const cn = partitionForRegion('cn-north-1');

  it.each<[Partition, string, string, string]>([
    [aws, '123456789012', 'deployer', 'arn:aws:iam::123456789012:role/deployer'],
    [aws, '123456789012', 'ci/deployer', 'arn:aws:iam::123456789012:role/ci/deployer'],
    [aws, '123456789012', '/ci/deployer', 'arn:aws:iam::123456789012:role/ci/deployer'],
    [aws, '000000000001', 'a/b/c/gitlab-x', 'arn:aws:iam::000000000001:role/a/b/c/gitlab-x'],
    [gov, '123456789012', 'deployer', 'arn:aws-us-gov:iam::123456789012:role/deployer'],
    [cn, '123456789012', 'svc/deployer', 'arn:aws-cn:iam::123456789012:role/svc/deployer'],
    [partitionForRegion('us-isob-east-1'), '123456789012', 'r', 'arn:aws-iso-b:iam::123456789012:role/r'],
    [partitionForRegion('eusc-de-east-1'), '123456789012', 'r', 'arn:aws-eusc:iam::123456789012:role/r'],
  ])('%#: %s %s → %s', (partition, account, name, expected) => {
    expect(roleArn(partition, account, name)).toBe(expected);
  });

  it.each(['12345678901', '1234567890123', '1234-5678-9012', ' 123456789012', 'abcdefghijkl', ''])(
    'refuses account id %j',
    (account) => {
      expect(() => roleArn(aws, account, 'deployer')).toThrow(
        expect.objectContaining({ name: 'ConfigError', code: 'InvalidAccountId' }),
      );
    },
  );

  it.each([
    '',
    '/',
    'ci/',
    'ci//deployer',
    '//deployer',
    'has space',
    'colon:name',
    'x'.repeat(65),
    `${'p'.repeat(511)}/deployer`,
    'ci/ünicode/deployer',
    'ci/sp ace/deployer',
  ])('refuses role %j', (name) => {
    expect(() => roleArn(aws, '123456789012', name)).toThrow(
      expect.objectContaining({ name: 'ConfigError', code: 'InvalidRoleName' }),
    );
  });

  it('accepts a path of exactly 512 characters', () => {
    const inner = 'p'.repeat(510);
    expect(roleArn(aws, '123456789012', `${inner}/r`)).toBe(`arn:aws:iam::123456789012:role/${inner}/r`);
  });
});

describe('parseRoleArn', () => {
  it.each([
    [
      'arn:aws:iam::123456789012:role/deployer',
      { partition: 'aws', accountId: '123456789012', path: '/', roleName: 'deployer' },
    ],
    [
      'arn:aws:iam::123456789012:role/ci/deployer',
      { partition: 'aws', accountId: '123456789012', path: '/ci/', roleName: 'deployer' },
    ],
    [
      'arn:aws-us-gov:iam::000000000000:role/a/b.c/x+y=z,w@v-u_t',
      { partition: 'aws-us-gov', accountId: '000000000000', path: '/a/b.c/', roleName: 'x+y=z,w@v-u_t' },
    ],
    [
      'arn:aws-iso-b:iam::123456789012:role/service-role/r',
      { partition: 'aws-iso-b', accountId: '123456789012', path: '/service-role/', roleName: 'r' },
    ],
    [
      'arn:aws-future:iam::123456789012:role/r',
      { partition: 'aws-future', accountId: '123456789012', path: '/', roleName: 'r' },
    ],
  ])('%s', (arn, expected) => {
    expect(parseRoleArn(arn)).toEqual(expected);
  });

  it.each([
    '',
    'deployer',
    'arn:aws:iam::123456789012:role/',
    'arn:aws:iam::123456789012:role//deployer',
    'arn:aws:iam::123456789012:role/ci//deployer',
    'arn:aws:iam::123456789012:role/ci/',
    'arn:aws:iam::12345678901:role/deployer',
    'arn:aws:iam::1234567890123:role/deployer',
    'arn:aws:iam:us-east-1:123456789012:role/deployer',
    'arn:aws:sts::123456789012:assumed-role/deployer/session',
    'arn:aws:iam::123456789012:user/deployer',
    'arn:aws:iam::123456789012:oidc-provider/gitlab.com',
    'arn:AWS:iam::123456789012:role/deployer',
    'arn:gcp:iam::123456789012:role/deployer',
    'arn:aws:iam::123456789012:role/has space',
    'arn:aws:iam::123456789012:role/deployer\n',
    ' arn:aws:iam::123456789012:role/deployer',
    `arn:aws:iam::123456789012:role/${'x'.repeat(65)}`,
    `arn:aws:iam::123456789012:role/${'p'.repeat(511)}/r`,
  ])('refuses %j', (arn) => {
    expect(parseRoleArn(arn)).toBeUndefined();
  });

  it('round-trips roleArn for every partition, account, path and name', () => {
    const nameChar = fc.constantFrom(...'abcXYZ0189_+=,.@-');
    const pathChar = fc.constantFrom(...'abz09-_.~!*');
    const region = fc.constantFrom(
      'us-east-1',
      'cn-north-1',
      'us-gov-west-1',
      'us-iso-east-1',
      'us-isob-east-1',
      'eu-isoe-west-1',
      'us-isof-south-1',
      'eusc-de-east-1',
    );
    fc.assert(
      fc.property(
        region,
        fc.stringMatching(/^\d{12}$/),
        fc.array(fc.string({ unit: pathChar, minLength: 1, maxLength: 20 }), { maxLength: 5 }),
        fc.string({ unit: nameChar, minLength: 1, maxLength: 64 }),
        fc.boolean(),
        (r, accountId, segments, roleName, leadingSlash) => {
          const partition = partitionForRegion(r);
          const input = `${leadingSlash ? '/' : ''}${[...segments, roleName].join('/')}`;
          const arn = roleArn(partition, accountId, input);
          const path = segments.length === 0 ? '/' : `/${segments.join('/')}/`;
          expect(parseRoleArn(arn)).toEqual({ partition: partition.id, accountId, path, roleName });
        },
      ),
    );
  });

  it('never throws, and what it accepts rebuilds to the same ARN', () => {
    const arnLike = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 100 }),
      fc
        .tuple(
          fc.constantFrom('aws', 'aws-cn', 'x'),
          fc.stringMatching(/^\d{11,13}$/),
          fc.string({ maxLength: 40 }),
        )
        .map(([p, a, rest]) => `arn:${p}:iam::${a}:role/${rest}`),
    );
    fc.assert(
      fc.property(arnLike, (arn) => {
        const parsed = parseRoleArn(arn);
        if (parsed !== undefined) {
          const partition = { ...partitionForRegion('us-east-1'), id: parsed.partition };
          expect(roleArn(partition, parsed.accountId, `${parsed.path}${parsed.roleName}`)).toBe(arn);
        }
      }),
    );
  });
});
