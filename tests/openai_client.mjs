// The official `openai` npm package, unchanged, against loket's OpenAI-compatible API: a second
// real client of the protocol beside the Python one (tests/test_openai_api.py).
// tests/test_openai_node.py runs it once with the openai of the root package.json and checks what
// it prints.
//
//   node tests/openai_client.mjs BASE_URL QUESTION ABUSE
//
// BASE_URL: loket's http://HOST:PORT/v1. Prints one JSON object on stdout:
//   models:   the listed model ids;
//   streamed: QUESTION asked with stream: true, {text: every chunk's content joined,
//             finish_reason and loket: of the last chunk};
//   refusal:  ABUSE asked without streaming, {text, loket};
//   error:    what the client throws for a request with no user message, {name, status, message};
//   unscoped: what it throws when its key is a partner token without the `ask` scope
//             (env LOKET_UNSCOPED_TOKEN);
//   quota:    what it throws on the second question of a partner whose quota is one question
//             (env LOKET_QUOTA_TOKEN), with the Retry-After header.

import OpenAI from 'openai';

const [baseURL, question, abuse] = process.argv.slice(2);
// An anonymous client: loket asks no key of it, but the client insists on one (as the Python test).
const client = new OpenAI({ baseURL, apiKey: 'none', maxRetries: 0, timeout: 60_000 });
const user = (content) => [{ role: 'user', content }];

const models = [];
for await (const model of client.models.list()) models.push(model.id);

const stream = await client.chat.completions.create({
  model: 'loket',
  messages: user(question),
  stream: true,
});
let text = '';
let last;
for await (const chunk of stream) {
  text += chunk.choices[0].delta.content ?? '';
  last = chunk;
}

const refused = await client.chat.completions.create({ model: 'loket', messages: user(abuse) });

// What a request throws: the error's class, status, message and Retry-After header.
async function thrown(request) {
  try {
    await request();
  } catch (error) {
    return {
      name: error.constructor.name,
      status: error.status,
      message: error.error?.message,
      retryAfter: error.headers?.get('retry-after') ?? null,
    };
  }
  return null;
}

const error = await thrown(() =>
  client.chat.completions.create({ model: 'loket', messages: [{ role: 'system', content: 'Hallo' }] }),
);

const partner = (apiKey) => new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });
const unscoped = await thrown(() =>
  partner(process.env.LOKET_UNSCOPED_TOKEN).chat.completions.create({
    model: 'loket',
    messages: user(question),
    stream: true,
  }),
);
const limited = partner(process.env.LOKET_QUOTA_TOKEN);
await limited.chat.completions.create({ model: 'loket', messages: user(question) });
const quota = await thrown(() => limited.chat.completions.create({ model: 'loket', messages: user(question) }));

console.log(
  JSON.stringify({
    models,
    streamed: { text, finish_reason: last.choices[0].finish_reason, loket: last.loket },
    refusal: { text: refused.choices[0].message.content, loket: refused.loket },
    error,
    unscoped,
    quota,
  }),
);
