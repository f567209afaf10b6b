/**
 * The reference of `bench:ingest`: the same embedded aedes broker with a do-nothing in-process subscriber (the
 * callback deferred with process.nextTick, as FIELD-NOTES advises). Prints its port on standard output.
 */
import { EmbeddedBroker } from '@peakwatch/mqtt';

async function main(): Promise<void> {
  const broker = await EmbeddedBroker.start({ port: 0, host: '127.0.0.1' });
  let received = 0;
  broker.aedes.subscribe(
    'energy/v1/+/+/telemetry',
    (_packet, callback) => {
      received++;
      process.nextTick(callback);
    },
    () => process.stdout.write(`${broker.port}\n`),
  );
  process.on('SIGTERM', () => {
    void broker.close().then(() => {
      process.stderr.write(`reference received ${received}\n`);
      process.exit(0);
    });
  });
}

void main();
