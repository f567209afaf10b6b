/**
 * The reference of `bench:ingest`: the same embedded aedes broker with a do-nothing in-process subscriber (the
 * callback deferred with process.nextTick, as docs/measurements.md explains). Prints its port on standard output.
 *
 * With a file argument it is the durable floor instead: the subscriber's callback (and so the PUBACK) waits until the
 * raw payload is on disk, the messages of one turn of the event loop written together with one writev and one
 * fdatasync. No validation, framing or InfluxDB: the least any broker that acknowledges only durable messages does.
 */
import { openSync, writev, fdatasync } from 'node:fs';
import { EmbeddedBroker } from '@peakwatch/mqtt';

function durableFloor(file: string): (payload: Buffer, callback: () => void) => void {
  const fd = openSync(file, 'a');
  let payloads: Buffer[] = [];
  let callbacks: (() => void)[] = [];
  let busy = false;
  const flush = (): void => {
    if (busy || payloads.length === 0) return;
    busy = true;
    const group = { payloads, callbacks };
    payloads = [];
    callbacks = [];
    writev(fd, group.payloads, (writeError) => {
      if (writeError) throw writeError;
      fdatasync(fd, (syncError) => {
        if (syncError) throw syncError;
        for (const callback of group.callbacks) callback();
        busy = false;
        flush();
      });
    });
  };
  return (payload, callback) => {
    payloads.push(payload);
    callbacks.push(callback);
    if (payloads.length === 1) setImmediate(flush);
  };
}

async function main(): Promise<void> {
  const broker = await EmbeddedBroker.start({ port: 0, host: '127.0.0.1' });
  const file = process.argv[2];
  const durable = file ? durableFloor(file) : undefined;
  let received = 0;
  broker.aedes.subscribe(
    'energy/v1/+/+/telemetry',
    (packet, callback) => {
      received++;
      if (durable) durable(packet.payload as Buffer, callback);
      else process.nextTick(callback);
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
