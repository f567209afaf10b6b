import { HttpStatus } from '@nestjs/common';
import { z } from 'zod';
import { InputRefusedException, badField, parseInput, problem } from './validation';

/** What parseInput throws for `input`, as its exception. */
function refusal(run: () => unknown): InputRefusedException {
  try {
    run();
  } catch (error) {
    if (error instanceof InputRefusedException) return error;
    throw error;
  }
  throw new Error('nothing was refused');
}

const schema = z
  .object({
    site: z.string().regex(/^[a-z0-9-]+$/, problem('expectedSiteId')),
    count: z.number().int(),
  })
  .strict();

describe('parseInput: a 400 naming each field, said in each language', () => {
  const refused = refusal(() => parseInput(schema, { site: 'Bad Site', count: 'two', extra: 1 }));

  it('answers in English as it always has', () => {
    expect(refused.getStatus()).toBe(HttpStatus.BAD_REQUEST);
    expect(refused.getResponse()).toEqual(refused.bodyIn('en'));
    expect(refused.bodyIn('en')).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message:
        'site: expected a site id; count: Invalid input: expected number, received string; extra: Unrecognized key: "extra"',
      field: 'site',
      problems: [
        { field: 'site', problem: 'expected a site id' },
        { field: 'count', problem: 'Invalid input: expected number, received string' },
        { field: 'extra', problem: 'Unrecognized key: "extra"' },
      ],
    });
  });

  it("answers in Chinese with the API's texts and zod's own (zh-CN locale), the fields as named", () => {
    expect(refused.bodyIn('zh-CN')).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message:
        'site：应为站点编号；count：无效输入：期望 数字，实际接收 string；extra：出现未知的键(key): "extra"',
      field: 'site',
      problems: [
        { field: 'site', problem: '应为站点编号' },
        { field: 'count', problem: '无效输入：期望 数字，实际接收 string' },
        { field: 'extra', problem: '出现未知的键(key): "extra"' },
      ],
    });
  });

  it("fills a refinement's values from its params", () => {
    const ranged = z.object({ days: z.number() }).refine((v) => v.days <= 400, {
      message: problem('rangeAtMost'),
      params: { days: 400 },
      path: ['days'],
    });
    const tooLong = refusal(() => parseInput(ranged, { days: 500 }));
    expect(tooLong.bodyIn('en')).toMatchObject({ message: 'days: the range may span at most 400 days' });
    expect(tooLong.bodyIn('zh-CN')).toMatchObject({ message: 'days：时间范围最长 400 天' });
  });

  it("keeps a library's English sentence in English and says its text in Chinese", () => {
    const refusedByLibrary = refusal(() =>
      badField('startsAt', { english: 'an event cannot start in the past', key: 'startsInPast' }),
    );
    expect(refusedByLibrary.bodyIn('en')).toMatchObject({
      message: 'startsAt: an event cannot start in the past',
    });
    expect(refusedByLibrary.bodyIn('zh-CN')).toMatchObject({
      message: 'startsAt：事件不能开始于过去',
      field: 'startsAt',
    });
  });
});
