import { describe, expect, it } from 'vitest';
import { imagesOfAnswer } from './image-answer.js';

const answer = (content: unknown) =>
  JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content } }] });

describe('imagesOfAnswer', () => {
  it('finds http(s) and data:image links in markdown image syntax, in order', () => {
    const content =
      'Here:\n![Image](https://a.test/1.png)\n![x]( <https://a.test/2.jpg> )\n![](data:image/png;base64,iVBOR)';
    expect(imagesOfAnswer(answer(content))).toEqual({
      urls: ['https://a.test/1.png', 'https://a.test/2.jpg', 'data:image/png;base64,iVBOR'],
    });
  });

  it('ignores plain links and other schemes', () => {
    const result = imagesOfAnswer(
      answer('[link](https://a.test/x.png) ![js](javascript:alert(1)) ![f](file:///etc/passwd)'),
    );
    expect('error' in result && result.error.code).toBe('upstream_error');
  });

  it('an upstream error, with what the model said, clipped, when there is no image', () => {
    const long = 'no '.repeat(500);
    const result = imagesOfAnswer(answer(long));
    if (!('error' in result)) throw new Error('expected an error');
    expect(result.error.status).toBe(502);
    expect(result.error.message).toContain('no no no');
    expect(result.error.message.length).toBeLessThan(400);
  });

  it('reads a hostile 1 MB answer in one pass (the link pattern was quadratic: 40 KB of `![` took 0.5 s)', () => {
    for (const unit of ['![', '![a](https://', '![a](  ', `![${'a'.repeat(300)}`]) {
      const content = unit.repeat(Math.ceil(1_000_000 / unit.length));
      const started = performance.now();
      const result = imagesOfAnswer(answer(content));
      expect('error' in result, unit).toBe(true);
      expect(performance.now() - started, unit).toBeLessThan(300);
    }
  });

  it('an upstream error for a body that is not a chat answer', () => {
    for (const body of ['not json', '{}', answer(null), answer(['![a](https://a.test/1.png)'])]) {
      const result = imagesOfAnswer(body);
      expect('error' in result, body).toBe(true);
    }
  });
});
