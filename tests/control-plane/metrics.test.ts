import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError, describeConfig, loadConfig } from '../../control-plane/config.ts';
import { Counter, renderMetrics } from '../../control-plane/metrics/index.ts';
import { loginCookie, startControlPlane, type TestControlPlane } from '../support/control-plane.ts';
import { connectAgent, eventually, type RelayClient } from './relay-client.ts';

const TOKEN = 'metrics-token-for-the-tests-0123456789';

/** One sample of an exposition: `name{labels} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;

/**
 * Parses the text exposition format strictly enough to catch a malformed line: every line is a
 * HELP, a TYPE or a sample, every sample's family was typed before it.
 */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line);
    if (type) {
      typed.add(type[1]!);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* \S/.test(line)) continue;
    const match = SAMPLE.exec(line);
    assert.ok(match, `not an exposition line: ${line}`);
    const [, name, labelText, value] = match;
    const family = name!.replace(/_(bucket|sum|count)$/, '');
    assert.ok(typed.has(name!) || typed.has(family), `sample before its TYPE: ${line}`);
    const labels: Record<string, string> = {};
    if (labelText) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < labelText.length) {
        const label = LABEL.exec(labelText);
        assert.ok(label, `bad labels: ${line}`);
        labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
    }
    const number = value === '+Inf' ? Number.POSITIVE_INFINITY : Number(value);
    assert.ok(!Number.isNaN(number), `not a number: ${line}`);
    samples.push({ name: name!, labels, value: number });
  }
  return samples;
}

function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.find(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  );
  return found?.value;
}

describe('metrics', () => {
  it('label values with quotes, backslashes and newlines are escaped and read back whole', () => {
    const counter = new Counter('lifeline_test_total', 'A test counter.\nSecond line.');
    const value = 'say "hi"\\ then\nleave';
    counter.inc({ route: value }, 2);
    const samples = parseExposition(renderMetrics([counter]));
    assert.deepEqual(samples, [{ name: 'lifeline_test_total', labels: { route: value }, value: 2 }]);
  });

  it('the start-up log shows whether LIFELINE_METRICS_TOKEN is set, never the token', () => {
    const config = loadConfig({ LIFELINE_METRICS_TOKEN: TOKEN });
    assert.equal(describeConfig(config).metricsToken, 'set');
    assert.ok(!JSON.stringify(describeConfig(config)).includes(TOKEN));
    assert.equal(describeConfig(loadConfig({})).metricsToken, 'unset');
  });

  it('a LIFELINE_METRICS_TOKEN shorter than 16 characters stops the start with a ConfigError', () => {
    assert.throws(() => loadConfig({ LIFELINE_METRICS_TOKEN: 'short' }), ConfigError);
  });

  describe('without LIFELINE_METRICS_TOKEN', () => {
    let cp: TestControlPlane;
    before(async () => {
      cp = await startControlPlane();
    });
    after(() => cp.stop());

    it('/metrics does not exist: 404 with or without a token', async () => {
      assert.equal((await cp.app.request('/metrics')).status, 404);
      const withToken = await cp.app.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(withToken.status, 404);
      assert.equal(withToken.headers.get('content-type'), 'application/problem+json');
    });
  });

  describe('with LIFELINE_METRICS_TOKEN', () => {
    let cp: TestControlPlane;
    let agent: RelayClient | undefined;
    before(async () => {
      cp = await startControlPlane({ listen: true, env: { LIFELINE_METRICS_TOKEN: TOKEN } });
    });
    after(async () => {
      await agent?.close();
      await cp.stop();
    });

    async function scrape(): Promise<Sample[]> {
      const response = await cp.app.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return parseExposition(await response.text());
    }

    it('a missing or wrong token is refused with 401', async () => {
      for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${TOKEN}`, TOKEN]) {
        const response = await cp.app.request('/metrics', {
          headers: authorization === undefined ? {} : { authorization },
        });
        assert.equal(response.status, 401, `authorization: ${authorization}`);
        assert.equal(((await response.json()) as { code: string }).code, 'UNAUTHENTICATED');
      }
    });

    it('the right token reads an exposition with every family typed', async () => {
      const samples = await scrape();
      assert.equal(sampleValue(samples, 'lifeline_live_sessions'), 0);
      assert.equal(sampleValue(samples, 'lifeline_connected_agents'), 0);
      assert.equal(sampleValue(samples, 'lifeline_relay_dropped_video_frames_total'), 0);
    });

    it('a session whose agent is connected shows in live sessions, connected agents and relay bytes', async () => {
      const connected = await connectAgent(cp);
      agent = connected.agent;
      const samples = await scrape();
      assert.equal(sampleValue(samples, 'lifeline_live_sessions'), 1);
      assert.equal(sampleValue(samples, 'lifeline_connected_agents'), 1);
      assert.ok(
        (sampleValue(samples, 'lifeline_relay_received_bytes_total') ?? 0) > 0,
        'the hello was counted',
      );
      await agent.close();
      await eventually(
        async () => sampleValue(await scrape(), 'lifeline_live_sessions') === 0,
        'session gone',
      );
    });

    it('a wrong code counts as a refused redemption', async () => {
      const cookie = await loginCookie(cp.app);
      const refused = (s: Sample[]) =>
        sampleValue(s, 'lifeline_code_redemptions_total', { result: 'refused' }) ?? 0;
      const before = refused(await scrape());
      const response = await cp.app.request('/api/sessions/redeem', {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie },
        body: JSON.stringify({ code: '000000000' }),
      });
      assert.equal(response.status, 404);
      assert.equal(refused(await scrape()), before + 1);
    });

    it('a request is timed under its route pattern, not its path', async () => {
      const cookie = await loginCookie(cp.app);
      const id = '0193a4b2-0000-7000-8000-000000000000';
      const count = (s: Sample[]) =>
        sampleValue(s, 'lifeline_http_request_duration_seconds_count', {
          method: 'GET',
          route: '/api/sessions/{id}',
        }) ?? 0;
      const before = await scrape();
      await cp.app.request(`/api/sessions/${id}`, { headers: { cookie } });
      const samples = await scrape();
      assert.equal(count(samples), count(before) + 1);
      assert.ok(
        samples.every((s) => !Object.values(s.labels).some((value) => value.includes(id))),
        'no label holds the id',
      );
      assert.equal(
        samples.some((s) => s.labels['route'] === '/metrics'),
        false,
        'scrapes are not timed',
      );
    });

    it('a request a throttle refuses with 429 counts as a throttle refusal of its route', async () => {
      const cookie = await loginCookie(cp.app);
      const labels = { method: 'POST', route: '/api/sessions/redeem' };
      const hits = (s: Sample[]) => sampleValue(s, 'lifeline_throttle_refusals_total', labels) ?? 0;
      const before = hits(await scrape());
      let status = 0;
      // The operator's wrong codes: ten are free, then the throttle refuses.
      for (let attempt = 0; attempt < 20 && status !== 429; attempt++) {
        const response = await cp.app.request('/api/sessions/redeem', {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie },
          body: JSON.stringify({ code: '000000000' }),
        });
        status = response.status;
      }
      assert.equal(status, 429);
      assert.equal(hits(await scrape()), before + 1);
    });
  });
});
