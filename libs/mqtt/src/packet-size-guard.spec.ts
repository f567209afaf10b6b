import { PacketSizeGuard, PacketTooLargeError } from './packet-size-guard';

/** Feeds `chunks` through a guard; resolves with the bytes passed, or rejects with its error. */
function run(max: number, chunks: Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const guard = new PacketSizeGuard(max);
    const out: Buffer[] = [];
    guard.on('data', (b: Buffer) => out.push(b));
    guard.on('error', reject);
    guard.on('end', () => resolve(Buffer.concat(out)));
    for (const c of chunks) guard.write(c);
    guard.end();
  });
}

describe('PacketSizeGuard', () => {
  // PINGREQ (0xC0, length 0), then a PUBLISH of remaining length 5 split across chunks, then DISCONNECT
  const stream = Buffer.from([0xc0, 0x00, 0x30, 0x05, 0x00, 0x01, 0x74, 0x68, 0x69, 0xe0, 0x00]);

  it('passes packets within the limit unchanged, however the stream is cut', async () => {
    expect(await run(5, [stream])).toEqual(stream);
    expect(
      await run(
        5,
        [...stream].map((b) => Buffer.from([b])),
      ),
    ).toEqual(stream);
  });

  it('fails at the header of a packet over the limit, before its body arrives', async () => {
    // remaining length 200 (0xC8 0x01): two header bytes and no body
    await expect(run(199, [Buffer.from([0x10, 0xc8, 0x01])])).rejects.toEqual(new PacketTooLargeError(200));
    // 268,435,455 bytes announced (the largest): refused from its header alone
    await expect(run(1_000_000, [Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f])])).rejects.toBeInstanceOf(
      PacketTooLargeError,
    );
    // a fifth length byte is malformed
    await expect(run(1_000_000, [Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01])])).rejects.toBeInstanceOf(
      PacketTooLargeError,
    );
    await expect(run(4, [stream])).rejects.toEqual(new PacketTooLargeError(5));
  });
});
