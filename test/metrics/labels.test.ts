/**
 * The label values of docs/metrics.md stay in bounded sets: Keystone paths with ids replaced,
 * lease failure reasons as the worker classifies the error; and the network list of
 * `[api] metrics_allowed_networks` (docs/metrics.md#access).
 */
import { describe, expect, it } from 'vitest';
import type { LeaseFailureKind } from '../../src/domain/lifecycle.js';
import { KeystoneAuthError, KeystoneUnavailableError } from '../../src/drivers/keystone/session.js';
import { LeaseError } from '../../src/drivers/lease-backend.js';
import { EndpointNotFoundError } from '../../src/drivers/service-session.js';
import { LOOPBACK_NETWORKS, metricsAccess } from '../../src/metrics/access.js';
import { keystonePathTemplate, LEASE_FAILURE_REASONS, type LeaseFailureReason } from '../../src/metrics/registry.js';
import { describeLeaseFailure } from '../../src/worker/lease-worker.js';

describe('keystonePathTemplate', () => {
  it('keeps the identity API words and replaces ids, with or without a prefix before /v3', () => {
    expect(keystonePathTemplate('https://ks.example.org:5000/v3/auth/tokens?nocatalog')).toBe('/auth/tokens');
    expect(keystonePathTemplate('https://ks.example.org/identity/v3/projects/p1/users/u%201/roles/r1')).toBe(
      '/projects/{id}/users/{id}/roles/{id}',
    );
    expect(keystonePathTemplate('http://127.0.0.1:35357/v3/users/0123456789abcdef')).toBe('/users/{id}');
    expect(keystonePathTemplate('http://ks/v3/registered_limits?service_id=s&region_id=r')).toBe('/registered_limits');
    expect(keystonePathTemplate('http://ks/v3/limits/model')).toBe('/limits/model');
    expect(keystonePathTemplate('not a url')).toBe('unknown');
  });
});

describe('lease failure reasons', () => {
  it('are the kinds the worker gives its log line and the member (docs/api.md#lease-failures), and record', () => {
    // Every kind has its label value (checked by the type checker), and nothing else is one.
    const complete: [Exclude<LeaseFailureKind, LeaseFailureReason>] extends [never] ? true : false = true;
    expect(complete).toBe(true);
    const cases: [unknown, 'bot' | 'lease', LeaseFailureReason][] = [
      [LeaseError.fromStatus(500, 'Not enough hosts available'), 'lease', 'refused'],
      [LeaseError.fromStatus(503, 'Service Unavailable'), 'lease', 'unavailable'],
      [LeaseError.fromStatus(403, 'Policy does not allow'), 'lease', 'service'],
      [new KeystoneUnavailableError('Unable to reach Keystone', 'connect'), 'bot', 'unavailable'],
      [new KeystoneAuthError(403, 'Keystone refused'), 'bot', 'identity'],
      [new EndpointNotFoundError('reservation', 'public', null), 'lease', 'catalog'],
      [new Error('something else'), 'lease', 'internal'],
    ];
    for (const [err, stage, reason] of cases) {
      expect(describeLeaseFailure(err, stage).kind, String(err)).toBe(reason);
      expect(LEASE_FAILURE_REASONS).toContain(reason);
    }
  });
});

describe('metricsAccess', () => {
  it('allows loopback only by default (IPv4, IPv6, IPv4-mapped)', () => {
    const allowed = metricsAccess(LOOPBACK_NETWORKS);
    expect(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'].filter(allowed)).toHaveLength(4);
    expect(['10.0.0.1', '::2', '::ffff:10.0.0.1', '', 'localhost', undefined].some(allowed)).toBe(false);
  });

  it('takes networks and single addresses', () => {
    const allowed = metricsAccess(['192.0.2.0/24', '198.51.100.7', 'fd00::/8', '2001:db8::1']);
    expect(allowed('192.0.2.255')).toBe(true);
    expect(allowed('192.0.3.0')).toBe(false);
    expect(allowed('198.51.100.7')).toBe(true);
    expect(allowed('198.51.100.8')).toBe(false);
    expect(allowed('fdab::1')).toBe(true);
    expect(allowed('2001:db8::1')).toBe(true);
    expect(allowed('2001:db8::2')).toBe(false);
    expect(metricsAccess([])('127.0.0.1')).toBe(false);
  });
});

describe('the registry', () => {
  it('has every bounded series at 0 from the start (rate() works before the first event)', async () => {
    const { parseMetrics } = await import('./prometheus.js');
    const { registry } = await import('../../src/metrics/registry.js');
    const m = parseMetrics(await registry.metrics());
    expect(m.all('warre_lease_creations_total').map((s) => `${s.labels.outcome}/${s.labels.reason}`)).toEqual(
      expect.arrayContaining(['created/new', 'created/found', 'failed/identity', 'retried/record', 'abandoned/reservation_changed']),
    );
    expect(m.all('warre_lease_creations_total')).toHaveLength(2 + 2 * LEASE_FAILURE_REASONS.length + 1);
    expect(m.all('warre_lease_events_total')).toHaveLength(15);
    expect(m.value('warre_keystone_token_cache_total', { result: 'rejected' })).toBe(0);
    // Gauges named like counters are left out (promtool refuses them).
    expect(m.all('nodejs_active_handles_total')).toEqual([]);
  });
});
