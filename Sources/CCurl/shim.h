// libcurl, with typed wrappers for its variadic setters (Swift cannot call C variadics).
#include <curl/curl.h>

typedef size_t (*ghillie_curl_data_callback)(char *, size_t, size_t, void *);

static inline CURLcode ghillie_curl_set_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ghillie_curl_set_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ghillie_curl_set_size(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ghillie_curl_set_callback(CURL *handle, CURLoption option, ghillie_curl_data_callback value) {
    return curl_easy_setopt(handle, option, value);
}

/// Hands libcurl bytes it copies (a CA bundle in memory: `CURLOPT_CAINFO_BLOB`).
static inline CURLcode ghillie_curl_set_blob(CURL *handle, CURLoption option, const void *data, size_t length) {
    struct curl_blob blob = { (void *)data, length, CURL_BLOB_COPY };
    return curl_easy_setopt(handle, option, &blob);
}

/// The CA bundle libcurl was built to use, or null.
static inline const char *ghillie_curl_default_cainfo(void) {
    return curl_version_info(CURLVERSION_NOW)->cainfo;
}

static inline CURLcode ghillie_curl_response_code(CURL *handle, long *code) {
    return curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, code);
}

static inline CURLcode ghillie_curl_private(CURL *handle, void **pointer) {
    return curl_easy_getinfo(handle, CURLINFO_PRIVATE, pointer);
}

/// The easy handle and result of a `CURLMSG_DONE` message (the result sits in a union).
static inline CURL *ghillie_curl_done(CURLMsg *message, CURLcode *result) {
    if (message->msg != CURLMSG_DONE) return 0;
    *result = message->data.result;
    return message->easy_handle;
}

static inline CURLcode ghillie_curl_global_init(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}
