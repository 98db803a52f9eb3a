/*
 * @sealstream/native: AES-256-GCM over runs of chunks, through the OpenSSL that Node itself links.
 *
 * Why it exists: node:crypto builds a cipher object, a fresh output Buffer and a tag Buffer for every
 * 16 KiB chunk, which costs about three times the AES-GCM work itself. Here one EVP_CIPHER_CTX per key
 * and direction keeps the key schedule; each chunk only resets the IV, and one call seals or opens a
 * whole run of chunks into a buffer the caller owns.
 *
 * Exports (all arguments are validated; any misuse throws a TypeError or RangeError):
 *   gcm(key: Uint8Array(32)) -> handle
 *   seal(handle, nonce(12), plaintext, out, aad | null)      out: plaintext.length + 16 bytes
 *   open(handle, nonce(12), sealed, out, aad | null) -> bool  out: sealed.length - 16 bytes
 *   sealRun(handle, nonces(12 * n), plain, out, chunkSize)   -> bytes written
 *   openRun(handle, nonces(12 * n), sealed, out, chunkSize)  -> chunks that authenticated
 *   pageOffset(bytes)                                        -> address of bytes[0] modulo 4096
 *   preallocate(fd, bytes)                                   -> whether the space was reserved
 * In a run, chunk i is at i * chunkSize of the plaintext and i * (chunkSize + 16) of the sealed
 * bytes; every chunk but the last is whole, the last is whatever remains (maybe empty). openRun stops
 * at the first chunk that fails and zeroes that chunk's output, so no unauthenticated plaintext is
 * left behind; chunks after it are not touched.
 *
 * pageOffset touches no memory: it tells JavaScript where a buffer starts within its 4 KiB page, which
 * JavaScript cannot see, so that the CLI can place a read where the kernel's copy runs at full speed
 * (see packages/cli/src/page-placement.ts).
 *
 * preallocate reserves disk blocks for the first `bytes` bytes of an open file without changing its
 * size (Linux fallocate with FALLOC_FL_KEEP_SIZE; false elsewhere, or when the file system cannot):
 * the writes that follow then skip the file system's allocation of each block (ext4's delayed
 * allocation, about a quarter of a buffered write's system time). What is not written stays
 * reserved past the end of the file until the file is truncated (ftruncate to its own size frees it).
 */
#ifdef __linux__
#define _GNU_SOURCE /* fallocate */
#include <errno.h>
#include <fcntl.h>
#endif
#include <limits.h>
#include <node_api.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define KEY_LENGTH 32
#define NONCE_LENGTH 12
#define TAG_LENGTH 16

typedef struct {
  EVP_CIPHER_CTX *enc;
  EVP_CIPHER_CTX *dec;
} gcm_state;

/* ---- argument helpers ---------------------------------------------------------------------- */

#define CHECK(env, call)                                                      \
  do {                                                                        \
    if ((call) != napi_ok) {                                                  \
      throw_last(env);                                                        \
      return NULL;                                                            \
    }                                                                         \
  } while (0)

static void throw_last(napi_env env) {
  const napi_extended_error_info *info = NULL;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  napi_get_last_error_info(env, &info);
  napi_throw_error(env, "ERR_SEALSTREAM_NATIVE",
                   info && info->error_message ? info->error_message : "N-API call failed");
}

/* Reads a Uint8Array (or Buffer) argument; null/undefined gives len 0 and data NULL when optional. */
static int get_bytes(napi_env env, napi_value value, const char *name, int optional, uint8_t **data,
                     size_t *len) {
  napi_valuetype type;
  bool is_typed = false;
  char message[96];
  *data = NULL;
  *len = 0;
  if (napi_typeof(env, value, &type) != napi_ok) return 0;
  if (optional && (type == napi_null || type == napi_undefined)) return 1;
  napi_is_typedarray(env, value, &is_typed);
  if (is_typed) {
    napi_typedarray_type ta;
    void *ptr = NULL;
    if (napi_get_typedarray_info(env, value, &ta, len, &ptr, NULL, NULL) == napi_ok &&
        ta == napi_uint8_array) {
      *data = (uint8_t *)ptr;
      return 1;
    }
  }
  snprintf(message, sizeof message, "\"%s\" expected a Uint8Array", name);
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return 0;
}

/* Reads the one Uint8Array argument of a call. */
static int get_only_bytes(napi_env env, napi_callback_info info, const char *name, uint8_t **data,
                          size_t *len) {
  size_t argc = 1;
  napi_value argv[1];
  char message[96];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_last(env);
    return 0;
  }
  if (argc < 1) {
    snprintf(message, sizeof message, "\"%s\" expected a Uint8Array", name);
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
    return 0;
  }
  return get_bytes(env, argv[0], name, 0, data, len);
}

static int range_error(napi_env env, const char *message) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
  return 0;
}

static int overlaps(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  return alen > 0 && blen > 0 && a < b + blen && b < a + alen;
}

static void finalize_state(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  gcm_state *state = (gcm_state *)data;
  /* EVP_CIPHER_CTX_free cleanses the key schedule. */
  EVP_CIPHER_CTX_free(state->enc);
  EVP_CIPHER_CTX_free(state->dec);
  OPENSSL_free(state);
}

static gcm_state *get_state(napi_env env, napi_value value) {
  void *data = NULL;
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_get_value_external(env, value, &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "\"handle\" expected a handle from gcm()");
    return NULL;
  }
  return (gcm_state *)data;
}

static int get_size(napi_env env, napi_value value, const char *name, size_t *out) {
  int64_t n = 0;
  char message[96];
  if (napi_get_value_int64(env, value, &n) != napi_ok || n <= 0 || n > INT_MAX) {
    snprintf(message, sizeof message, "\"%s\" expected a positive integer", name);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
    return 0;
  }
  *out = (size_t)n;
  return 1;
}

/* ---- one chunk ----------------------------------------------------------------------------- */

static int seal_one(EVP_CIPHER_CTX *ctx, const uint8_t *nonce, const uint8_t *in, size_t len,
                    uint8_t *out, const uint8_t *aad, size_t aad_len) {
  int n = 0;
  if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1) return 0;
  if (aad_len > 0 && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1) return 0;
  if (len > 0 && EVP_EncryptUpdate(ctx, out, &n, in, (int)len) != 1) return 0;
  if (EVP_EncryptFinal_ex(ctx, out + len, &n) != 1) return 0;
  return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LENGTH, out + len) == 1;
}

/* Returns 1 when the tag verifies. On failure the output is zeroed. */
static int open_one(EVP_CIPHER_CTX *ctx, const uint8_t *nonce, const uint8_t *in, size_t len,
                    uint8_t *out, const uint8_t *aad, size_t aad_len) {
  int n = 0;
  uint8_t tag[TAG_LENGTH];
  uint8_t scratch[16];
  size_t plain = len - TAG_LENGTH;
  int ok = 0;
  memcpy(tag, in + plain, TAG_LENGTH);
  if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LENGTH, tag) == 1 &&
      (aad_len == 0 || EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1) &&
      (plain == 0 || EVP_DecryptUpdate(ctx, out, &n, in, (int)plain) == 1)) {
    ok = EVP_DecryptFinal_ex(ctx, scratch, &n) == 1;
  }
  if (!ok && plain > 0) memset(out, 0, plain);
  return ok;
}

/* ---- exports ------------------------------------------------------------------------------- */

static napi_value js_gcm(napi_env env, napi_callback_info info) {
  napi_value result;
  uint8_t *key;
  size_t key_len;
  gcm_state *state;
  if (!get_only_bytes(env, info, "key", &key, &key_len)) return NULL;
  if (key_len != KEY_LENGTH) {
    range_error(env, "\"key\" expected 32 bytes");
    return NULL;
  }
  state = OPENSSL_zalloc(sizeof *state);
  if (state == NULL) {
    napi_throw_error(env, "ERR_SEALSTREAM_NATIVE", "out of memory");
    return NULL;
  }
  state->enc = EVP_CIPHER_CTX_new();
  state->dec = EVP_CIPHER_CTX_new();
  if (state->enc == NULL || state->dec == NULL ||
      EVP_EncryptInit_ex(state->enc, EVP_aes_256_gcm(), NULL, key, NULL) != 1 ||
      EVP_DecryptInit_ex(state->dec, EVP_aes_256_gcm(), NULL, key, NULL) != 1) {
    finalize_state(env, state, NULL);
    napi_throw_error(env, "ERR_SEALSTREAM_NATIVE", "OpenSSL could not set up AES-256-GCM");
    return NULL;
  }
  if (napi_create_external(env, state, finalize_state, NULL, &result) != napi_ok) {
    finalize_state(env, state, NULL);
    throw_last(env);
    return NULL;
  }
  return result;
}

typedef struct {
  gcm_state *state;
  uint8_t *nonce, *in, *out, *aad;
  size_t nonce_len, in_len, out_len, aad_len;
} one_args;

static int read_one(napi_env env, napi_callback_info info, one_args *a) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < 4) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected (handle, nonce, input, output, aad?)");
    return 0;
  }
  if ((a->state = get_state(env, argv[0])) == NULL) return 0;
  if (!get_bytes(env, argv[1], "nonce", 0, &a->nonce, &a->nonce_len) ||
      !get_bytes(env, argv[2], "input", 0, &a->in, &a->in_len) ||
      !get_bytes(env, argv[3], "output", 0, &a->out, &a->out_len))
    return 0;
  if (argc > 4 && !get_bytes(env, argv[4], "aad", 1, &a->aad, &a->aad_len)) return 0;
  if (a->nonce_len != NONCE_LENGTH) return range_error(env, "\"nonce\" expected 12 bytes");
  if (a->in_len > INT_MAX - TAG_LENGTH || a->aad_len > INT_MAX)
    return range_error(env, "input too large for one call");
  if (overlaps(a->in, a->in_len, a->out, a->out_len))
    return range_error(env, "\"input\" and \"output\" must not overlap");
  return 1;
}

static napi_value js_seal(napi_env env, napi_callback_info info) {
  one_args a = {0};
  if (!read_one(env, info, &a)) return NULL;
  if (a.out_len < a.in_len + TAG_LENGTH) {
    range_error(env, "\"output\" too small: needs input length + 16 bytes");
    return NULL;
  }
  if (!seal_one(a.state->enc, a.nonce, a.in, a.in_len, a.out, a.aad, a.aad_len)) {
    napi_throw_error(env, "ERR_SEALSTREAM_NATIVE", "OpenSSL failed to seal");
  }
  return NULL;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  one_args a = {0};
  napi_value result;
  if (!read_one(env, info, &a)) return NULL;
  if (a.in_len < TAG_LENGTH) {
    CHECK(env, napi_get_boolean(env, false, &result));
    return result;
  }
  if (a.out_len < a.in_len - TAG_LENGTH) {
    range_error(env, "\"output\" too small: needs input length - 16 bytes");
    return NULL;
  }
  CHECK(env, napi_get_boolean(env, open_one(a.state->dec, a.nonce, a.in, a.in_len, a.out, a.aad,
                                            a.aad_len) == 1,
                              &result));
  return result;
}

typedef struct {
  gcm_state *state;
  uint8_t *nonces, *in, *out;
  size_t count, in_len, out_len, chunk;
} run_args;

static int read_run(napi_env env, napi_callback_info info, run_args *a) {
  size_t argc = 5, nonces_len = 0;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < 5) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
                          "expected (handle, nonces, input, output, chunkSize)");
    return 0;
  }
  if ((a->state = get_state(env, argv[0])) == NULL) return 0;
  if (!get_bytes(env, argv[1], "nonces", 0, &a->nonces, &nonces_len) ||
      !get_bytes(env, argv[2], "input", 0, &a->in, &a->in_len) ||
      !get_bytes(env, argv[3], "output", 0, &a->out, &a->out_len) ||
      !get_size(env, argv[4], "chunkSize", &a->chunk))
    return 0;
  if (nonces_len == 0 || nonces_len % NONCE_LENGTH != 0)
    return range_error(env, "\"nonces\" expected a positive multiple of 12 bytes");
  a->count = nonces_len / NONCE_LENGTH;
  if (a->chunk > INT_MAX - TAG_LENGTH) return range_error(env, "\"chunkSize\" too large");
  if (overlaps(a->in, a->in_len, a->out, a->out_len))
    return range_error(env, "\"input\" and \"output\" must not overlap");
  return 1;
}

static napi_value js_seal_run(napi_env env, napi_callback_info info) {
  run_args a = {0};
  napi_value result;
  size_t full, last, i;
  if (!read_run(env, info, &a)) return NULL;
  full = a.count - 1;
  /* Every chunk but the last is whole; the last holds 0 to chunkSize bytes. */
  if (a.in_len < full * a.chunk || a.in_len - full * a.chunk > a.chunk) {
    range_error(env, "\"input\" does not hold exactly one chunk per nonce");
    return NULL;
  }
  last = a.in_len - full * a.chunk;
  if (a.out_len < a.in_len + a.count * TAG_LENGTH) {
    range_error(env, "\"output\" too small: needs input length + 16 bytes per chunk");
    return NULL;
  }
  for (i = 0; i < a.count; i++) {
    size_t len = i < full ? a.chunk : last;
    if (!seal_one(a.state->enc, a.nonces + i * NONCE_LENGTH, a.in + i * a.chunk, len,
                  a.out + i * (a.chunk + TAG_LENGTH), NULL, 0)) {
      napi_throw_error(env, "ERR_SEALSTREAM_NATIVE", "OpenSSL failed to seal");
      return NULL;
    }
  }
  CHECK(env, napi_create_double(env, (double)(a.in_len + a.count * TAG_LENGTH), &result));
  return result;
}

static napi_value js_open_run(napi_env env, napi_callback_info info) {
  run_args a = {0};
  napi_value result;
  size_t full, last, sealed_chunk, i;
  if (!read_run(env, info, &a)) return NULL;
  sealed_chunk = a.chunk + TAG_LENGTH;
  full = a.count - 1;
  if (a.in_len < full * sealed_chunk + TAG_LENGTH || a.in_len - full * sealed_chunk > sealed_chunk) {
    range_error(env, "\"input\" does not hold exactly one sealed chunk per nonce");
    return NULL;
  }
  last = a.in_len - full * sealed_chunk;
  if (a.out_len < a.in_len - a.count * TAG_LENGTH) {
    range_error(env, "\"output\" too small: needs input length - 16 bytes per chunk");
    return NULL;
  }
  for (i = 0; i < a.count; i++) {
    size_t len = i < full ? sealed_chunk : last;
    if (!open_one(a.state->dec, a.nonces + i * NONCE_LENGTH, a.in + i * sealed_chunk, len,
                  a.out + i * a.chunk, NULL, 0))
      break;
  }
  CHECK(env, napi_create_double(env, (double)i, &result));
  return result;
}

static napi_value js_page_offset(napi_env env, napi_callback_info info) {
  napi_value result;
  uint8_t *data;
  size_t len;
  if (!get_only_bytes(env, info, "bytes", &data, &len)) return NULL;
  /* An empty view may have no storage at all: it starts nowhere in particular. */
  CHECK(env, napi_create_uint32(env, data == NULL ? 0 : (uint32_t)((uintptr_t)data & 4095u), &result));
  return result;
}

static napi_value js_preallocate(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_value result;
  int32_t fd = -1;
  int64_t bytes = 0;
  int reserved = 0;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "\"fd\" expected a file descriptor");
    return NULL;
  }
  if (napi_get_value_int64(env, argv[1], &bytes) != napi_ok || bytes <= 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "\"bytes\" expected a positive integer");
    return NULL;
  }
#ifdef __linux__
  /* The system call itself, not posix_fallocate: that one emulates an unsupported file system by
   * writing zeros, which would cost more than it saves. EINTR (a signal) is retried. */
  int rc;
  do {
    rc = fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)bytes);
  } while (rc != 0 && errno == EINTR);
  reserved = rc == 0;
#endif
  CHECK(env, napi_get_boolean(env, reserved, &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gcm", NULL, js_gcm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"seal", NULL, js_seal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sealRun", NULL, js_seal_run, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openRun", NULL, js_open_run, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pageOffset", NULL, js_page_offset, NULL, NULL, NULL, napi_enumerable, NULL},
      {"preallocate", NULL, js_preallocate, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) {
    throw_last(env);
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
