// A token is a shared secret the server is given and a client presents: in a v2 HELLO, an
// `Authorization: Bearer` header or a `?token=` query. HELLO itself takes any string (the wire
// has no token limit); this is what edgecam-server accepts as its token and what the client
// agrees to send, so both refuse the same tokens with the same words.

/** What a token may be: what fits a Bearer header, a URL and a HELLO without surprises. */
export const TOKEN_PATTERN = /^[\x21-\x7e]{1,512}$/;
/** TOKEN_PATTERN in words, for refusals. */
export const TOKEN_EXPECT = '1 to 512 printable ASCII characters, no spaces';
