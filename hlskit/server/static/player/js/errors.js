// ErrorController: turns hls.js error records into sentences a person understands, keeping the
// hls.js details beneath. A refused key says why, using the key service's JSON error reason.
import { Events } from './bus.js';

const KEY_STATUS = {
  401: 'the key service refused the key',
  403: 'the key service refused the key',
  404: 'the key service has no such key (unknown or revoked)',
};

function statusOf(data) {
  if (data.response && data.response.code) return data.response.code;
  const xhr = data.networkDetails;
  return xhr && typeof xhr.status === 'number' ? xhr.status : 0;
}

// The key service answers refusals with short JSON: {"error": "<sentence>", "code": "Token.Expired"}.
const TOKEN_WORDS = {
  'Token.Missing': 'no playback token',
  'Token.Malformed': 'token malformed',
  'Token.Tampered': 'token signature not valid',
  'Token.Expired': 'token expired',
  'Token.OtherContent': 'token is for another content id',
  'Token.OtherClient': 'token is bound to another client address',
};

function serverError(data) {
  const xhr = data.networkDetails;
  if (!xhr) return null;
  let body = xhr.response;
  try {
    if (body instanceof ArrayBuffer) body = new TextDecoder().decode(body);
    if (typeof body !== 'string' || !body.trim().startsWith('{')) return null;
    return JSON.parse(body);
  } catch (err) {
    return null;
  }
}

function reasonOf(data) {
  const json = serverError(data);
  if (!json) return '';
  return TOKEN_WORDS[json.code] || String(json.error || json.reason || json.message || '').replace(/[.\s]+$/, '');
}

function origin(url) {
  try { return new URL(url, location.href).origin; } catch (err) { return url || ''; }
}

// The URL that failed, without its query (it may carry a token).
function urlOf(data) {
  const key = data.details && data.details.startsWith('key') && data.frag && data.frag.decryptdata;
  const url = (key && data.frag.decryptdata.uri) || (data.response && data.response.url) || data.url
    || (data.context && data.context.url) || (data.frag && data.frag.url) || '';
  return url.split('?')[0];
}

export function describe(data) {
  const d = data.details || '';
  const status = statusOf(data);
  const url = urlOf(data);
  if (d === 'keyLoadError') {
    if (KEY_STATUS[status]) {
      const reason = reasonOf(data) || (status === 401 ? 'no valid playback token' : status === 403 ? 'the token does not grant this content' : '');
      return status === 404 ? KEY_STATUS[404] : `${KEY_STATUS[status]}: ${reason}`;
    }
    if (!status) return `the key service at ${origin(url)} could not be reached (network down, or CORS not allowing this page)`;
    return `the key service answered HTTP ${status} for the key`;
  }
  if (d === 'keyLoadTimeOut') return 'the key service did not answer in time';
  if (d === 'manifestLoadError') {
    if (status === 404) return `the playlist was not found: ${url}`;
    if (status === 401 || status === 403) return `the server refused the playlist (HTTP ${status}): ${reasonOf(data) || 'check the token'}`;
    if (!status) return `the playlist could not be loaded from ${origin(url)} (network down, or CORS not allowing this page)`;
    return `the playlist could not be loaded (HTTP ${status})`;
  }
  if (d === 'manifestLoadTimeOut') return 'the playlist did not arrive in time';
  if (d === 'manifestParsingError') return 'this URL is not a valid HLS playlist';
  if (d === 'manifestIncompatibleCodecsError') return 'this browser cannot decode any definition (unsupported CODECS)';
  if (d === 'levelLoadError' || d === 'levelParsingError' || d === 'levelEmptyError') {
    return `a definition's media playlist could not be used (${status ? 'HTTP ' + status : d})`;
  }
  if (d === 'fragLoadError') return `a segment could not be loaded (${status ? 'HTTP ' + status : 'network'})`;
  if (d === 'fragDecryptError') return 'a segment could not be decrypted: the key does not match the segments';
  if (d === 'fragParsingError') return 'a segment could not be read (after decryption this usually means a wrong key, or a key that is not 16 raw bytes)';
  if (d === 'bufferStalledError') return 'playback stalled waiting for data';
  if (d === 'bufferAppendError') return 'the browser refused the decoded media';
  return `playback error (${d || data.type || 'unknown'})`;
}

export class ErrorController {
  constructor(bus, root) {
    this.bus = bus;
    this.root = root;
    this.registerListeners();
  }

  registerListeners() {
    this.bus.on(Events.HLS_ERROR, this.onHlsError, this);
    this.bus.on(Events.ERROR, this.show, this);
  }

  unregisterListeners() {
    this.bus.off(Events.HLS_ERROR, this.onHlsError, this);
    this.bus.off(Events.ERROR, this.show, this);
  }

  // The panel belonged to the stream that failed: a new player starts without it.
  destroy() {
    this.unregisterListeners();
    this.root.hidden = true;
    this.root.querySelector('#error-text').textContent = '';
    this.root.querySelector('#error-details').textContent = '';
  }

  onHlsError({ data }) {
    const status = statusOf(data);
    const details = [
      `type: ${data.type}`,
      `details: ${data.details}`,
      `fatal: ${data.fatal}`,
      status ? `HTTP status: ${status}` : '',
      urlOf(data) ? `url: ${urlOf(data)}` : '',
      data.error ? `error: ${data.error.message || data.error}` : '',
      serverError(data) ? `server said: ${JSON.stringify(serverError(data))}` : '',
    ].filter(Boolean).join('\n');
    this.bus.emit(Events.ERROR, {
      message: describe(data),
      details,
      fatal: Boolean(data.fatal),
      status,
      kind: data.details,
      // A refused key is final even while hls.js still retries other definitions.
      blocking: Boolean(data.fatal) || (data.details === 'keyLoadError' && [401, 403, 404].includes(status)),
    });
  }

  show(err) {
    if (!err.fatal && !err.blocking) return;
    this.root.hidden = false;
    this.root.querySelector('#error-text').textContent = err.message.charAt(0).toUpperCase() + err.message.slice(1) + '.';
    this.root.querySelector('#error-details').textContent = err.details || '';
  }
}
