import { PacketSizeGuard } from './packet-size-guard';

/** Feeds `chunks` through a guard: the first size over the limit it reports, or undefined. */
function run(max: number, chunks: Buffer[]): number | undefined {
  const guard = new PacketSizeGuard(max);
  for (const c of chunks) {
    const over = guard.check(c);
    if (over !== undefined) return over;
  }
  return undefined;
}

describe('PacketSizeGuard', () => {
  // PINGREQ (0xC0, length 0), then a PUBLISH of remaining length 5, then DISCONNECT
  const stream = Buffer.from([0xc0, 0x00, 0x30, 0x05, 0x00, 0x01, 0x74, 0x68, 0x69, 0xe0, 0x00]);

  it('lets packets within the limit through, however the stream is cut', () => {
    expect(run(5, [stream])).toBeUndefined();
    expect(
      run(
        5,
        [...stream].map((b) => Buffer.from([b])),
      ),
    ).toBeUndefined();
    expect(run(5, [stream.subarray(0, 5), stream.subarray(5)])).toBeUndefined();
  });

  it('refuses at the header of a packet over the limit, before its body arrives', () => {
    // remaining length 200 (0xC8 0x01): two header bytes and no body
    expect(run(199, [Buffer.from([0x10, 0xc8, 0x01])])).toBe(200);
    // 268,435,455 bytes announced (the largest length MQTT can state)
    expect(run(1_000_000, [Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f])])).toBe(268_435_455);
    // a fifth length byte is malformed
    expect(run(1_000_000, [Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01])])).toBe(
      Number.POSITIVE_INFINITY,
    );
    // the PUBLISH of the stream above, with a limit of 4
    expect(run(4, [stream])).toBe(5);
  });
});
