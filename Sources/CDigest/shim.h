#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

/// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) over `data` with an RSA private key in PEM (PKCS#1
/// or PKCS#8). Writes at most `capacity` bytes; returns the signature's length, or -1 when the
/// key does not parse, is not RSA, or signing fails.
static inline long ghillie_rs256_sign(const char *pem, int pem_length, const unsigned char *data, size_t length,
                                      unsigned char *signature, size_t capacity) {
    BIO *bio = BIO_new_mem_buf(pem, pem_length);
    if (bio == NULL) return -1;
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (key == NULL) return -1;
    long result = -1;
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    size_t written = capacity;
    if (context != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA
        && EVP_DigestSignInit(context, NULL, EVP_sha256(), NULL, key) == 1
        && EVP_DigestSign(context, signature, &written, data, length) == 1) {
        result = (long)written;
    }
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(key);
    return result;
}

/// Whether `signature` is an RS256 signature of `data` by the RSA public key in PEM
/// (SubjectPublicKeyInfo). 1 yes, 0 no, -1 the key does not parse.
static inline int ghillie_rs256_verify(const char *pem, int pem_length, const unsigned char *data, size_t length,
                                       const unsigned char *signature, size_t signature_length) {
    BIO *bio = BIO_new_mem_buf(pem, pem_length);
    if (bio == NULL) return -1;
    EVP_PKEY *key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (key == NULL) return -1;
    int result = 0;
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    if (context != NULL && EVP_DigestVerifyInit(context, NULL, EVP_sha256(), NULL, key) == 1
        && EVP_DigestVerify(context, signature, signature_length, data, length) == 1) {
        result = 1;
    }
    EVP_MD_CTX_free(context);
    EVP_PKEY_free(key);
    return result;
}

/// A new RSA key pair as PEM text (PKCS#8 private key, SubjectPublicKeyInfo public key), for
/// tests and fakes. Each buffer is malloc'd; the caller frees it. Returns 0 on success.
static inline int ghillie_rsa_generate(unsigned int bits, char **private_pem, char **public_pem) {
    EVP_PKEY *key = EVP_RSA_gen(bits);
    if (key == NULL) return -1;
    int status = -1;
    BIO *private_bio = BIO_new(BIO_s_mem());
    BIO *public_bio = BIO_new(BIO_s_mem());
    if (private_bio != NULL && public_bio != NULL
        && PEM_write_bio_PrivateKey(private_bio, key, NULL, NULL, 0, NULL, NULL) == 1
        && PEM_write_bio_PUBKEY(public_bio, key) == 1) {
        char *data = NULL;
        long length = BIO_get_mem_data(private_bio, &data);
        *private_pem = calloc((size_t)length + 1, 1);
        if (*private_pem != NULL) memcpy(*private_pem, data, (size_t)length);
        length = BIO_get_mem_data(public_bio, &data);
        *public_pem = calloc((size_t)length + 1, 1);
        if (*public_pem != NULL) memcpy(*public_pem, data, (size_t)length);
        status = (*private_pem != NULL && *public_pem != NULL) ? 0 : -1;
    }
    BIO_free(private_bio);
    BIO_free(public_bio);
    EVP_PKEY_free(key);
    return status;
}
