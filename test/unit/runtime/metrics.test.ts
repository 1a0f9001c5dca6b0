import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPowertoolsMetrics } from '#lib/runtime/metrics.ts';

type Emf = {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
};

describe('createPowertoolsMetrics', () => {
  let lines: string[];

  beforeEach(() => {
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'Switchboard');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'switchboard-test');
    lines = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('should write one EMF line per data point, each with only its own dimension', () => {
    // Prepare
    const metrics = createPowertoolsMetrics();

    // Act: as a webhook and the ack worker record them, one after another.
    metrics.count('MessagesReceived', 1, { name: 'channel', value: 'sms' });
    metrics.timing('WebhookLatency', 12);
    metrics.count('MessagesReceived', 1, { name: 'channel', value: 'email' });
    metrics.count('AcksSent');

    // Assess
    const emitted = lines
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Emf);
    expect(emitted).toHaveLength(4);
    const summary = emitted.map((emf) => {
      const [directive] = emf._aws.CloudWatchMetrics;
      const [metric] = directive?.Metrics ?? [];
      return {
        namespace: directive?.Namespace,
        dimensions: directive?.Dimensions,
        metric: metric && `${metric.Name} ${metric.Unit} ${String(emf[metric.Name])}`,
        channel: emf.channel,
        service: emf.service,
      };
    });
    expect(summary).toEqual([
      {
        namespace: 'Switchboard',
        dimensions: [['service', 'channel']],
        metric: 'MessagesReceived Count 1',
        channel: 'sms',
        service: 'switchboard-test',
      },
      {
        namespace: 'Switchboard',
        dimensions: [['service']],
        metric: 'WebhookLatency Milliseconds 12',
        channel: undefined,
        service: 'switchboard-test',
      },
      {
        namespace: 'Switchboard',
        dimensions: [['service', 'channel']],
        metric: 'MessagesReceived Count 1',
        channel: 'email',
        service: 'switchboard-test',
      },
      {
        namespace: 'Switchboard',
        dimensions: [['service']],
        metric: 'AcksSent Count 1',
        channel: undefined,
        service: 'switchboard-test',
      },
    ]);
  });
});
