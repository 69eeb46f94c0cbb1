import { describe, expect, it } from 'vitest';
import { sendsTokenInClear } from './obtain.js';

describe('sendsTokenInClear', () => {
  it.each([
    ['https://sts.eu-west-1.amazonaws.com', false],
    ['http://127.0.0.1:4566', false],
    ['http://localhost:4566/', false],
    ['http://[::1]:4566', false],
    ['http://localstack:4566', true],
    ['http://sts.example.com', true],
    ['not a url', false],
  ])('%s → %s', (endpoint, expected) => {
    expect(sendsTokenInClear(endpoint)).toBe(expected);
  });
});
