// How the playback token reaches the key service.
// hls.js: an Authorization header on key requests only (xhrSetup / fetchSetup), so playlists and
// segments stay plain cacheable GETs. Native HLS (Safari) cannot add headers: the token goes in
// the playlist URL, and the hlskit server rewrites key URIs to carry it.

const isKeyRequest = (context) => context && context.type === 'key';

export function hlsAuthConfig(token) {
  if (!token) return {};
  return {
    xhrSetup(xhr, url, context) {
      if (isKeyRequest(context)) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    },
    fetchSetup(context, initParams) {
      if (isKeyRequest(context)) {
        const headers = new Headers(initParams.headers || {});
        headers.set('Authorization', `Bearer ${token}`);
        initParams = { ...initParams, headers };
      }
      return new Request(context.url, initParams);
    },
  };
}

export function withToken(src, token) {
  if (!token) return src;
  const url = new URL(src, location.href);
  url.searchParams.set('token', token);
  return url.href;
}
