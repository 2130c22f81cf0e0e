/*
 * AWSAuthenticationPlugin for the sandbox's MariaDB: plays the RDS MySQL server plugin of the same name,
 * so that `CREATE USER u IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'` works verbatim and such users
 * log in only with an RDS IAM token sent as a cleartext password (client plugin mysql_clear_password).
 *
 * The plugin decides nothing itself: it hands (user, token) to the sandbox's IAM token verifier, the same
 * one PostgreSQL asks (sandbox/iam-token.ts behind sandbox/ldap-server.ts), as an LDAP simple bind with DN
 * `cn=<user>,dc=<client address>,dc=rds-iam-mysql`. The sandbox dials each database from its own
 * loopback address, so the address names the database the login reached and the verifier requires the
 * token to be signed for that database's endpoint. Success of the bind = valid token. Any failure (verifier unreachable,
 * malformed answer, timeout) refuses the login: MariaDB then answers the client with its own
 * "Access denied for user ..." error, as RDS does.
 *
 * Why C: MariaDB has no LDAP authentication of its own, and its PAM route goes through pam_exec, which
 * cuts passwords at 512 bytes (real tokens with session credentials are 770-1450 characters) and needs a
 * system-wide /etc/pam.d file. The sandbox compiles this file with the system C compiler (sandbox/mysql/
 * plugin-build.ts) and MariaDB loads it with plugin_load_add.
 *
 * The declarations below are the MariaDB 10.11 server plugin ABI (include/mysql/plugin.h and
 * plugin_auth.h of the server, which Debian ships only in the 600 MB libmariadbd-dev): plugin interface
 * 0x010f, authentication interface 0x0202, sizeof(struct st_maria_plugin) = 104 on LP64. A server with
 * another major interface version refuses to load the plugin with a clear log line; the sandbox surfaces it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MARIA_PLUGIN_INTERFACE_VERSION 0x010f
#define MYSQL_AUTHENTICATION_PLUGIN 7
#define MYSQL_AUTHENTICATION_INTERFACE_VERSION 0x0202
#define PLUGIN_LICENSE_GPL 1
#define MARIADB_PLUGIN_MATURITY_STABLE 5
#define CR_ERROR 0
#define CR_OK -1
#define PASSWORD_USED_YES 1
#define MYSQL_USERNAME_LENGTH 512

/* An RDS token is at most a few KB; anything much longer is not one. */
#define MAX_TOKEN 8192
#define VERIFIER_TIMEOUT_SECONDS 10
/* The client's address as MariaDB reports it (skip-name-resolve: an IPv4 or IPv6 literal). */
#define MAX_ADDRESS 45

typedef struct st_plugin_vio {
  int (*read_packet)(struct st_plugin_vio *vio, unsigned char **buf);
  int (*write_packet)(struct st_plugin_vio *vio, const unsigned char *packet, int packet_len);
  void (*info)(struct st_plugin_vio *vio, void *info);
} MYSQL_PLUGIN_VIO;

typedef struct st_mysql_server_auth_info {
  const char *user_name;
  unsigned int user_name_length;
  const char *auth_string;
  unsigned long auth_string_length;
  char authenticated_as[MYSQL_USERNAME_LENGTH + 1];
  char external_user[MYSQL_USERNAME_LENGTH + 1];
  int password_used;
  const char *host_or_ip;
  unsigned int host_or_ip_length;
  void *thd;
} MYSQL_SERVER_AUTH_INFO;

struct st_mysql_auth {
  int interface_version;
  const char *client_auth_plugin;
  int (*authenticate_user)(MYSQL_PLUGIN_VIO *vio, MYSQL_SERVER_AUTH_INFO *info);
  int (*hash_password)(const char *password, size_t password_length, char *hash, size_t *hash_length);
  int (*preprocess_hash)(const char *hash, size_t hash_length, unsigned char *out, size_t *out_length);
};

struct st_maria_plugin {
  int type;
  void *info;
  const char *name;
  const char *author;
  const char *descr;
  int license;
  int (*init)(void *);
  int (*deinit)(void *);
  unsigned int version;
  void *status_vars;
  void *system_vars;
  const char *version_info;
  unsigned int maturity;
};

/* BER length octets (definite form); returns how many were written. */
static size_t ber_length(unsigned char *out, size_t length) {
  if (length < 0x80) {
    out[0] = (unsigned char)length;
    return 1;
  }
  out[0] = 0x82;
  out[1] = (unsigned char)(length >> 8);
  out[2] = (unsigned char)length;
  return 3;
}

/* LDAPv3 BindRequest, message id 1, simple authentication: dn and password as given. */
static size_t bind_request(unsigned char *out, const char *dn, size_t dn_len, const char *pw, size_t pw_len) {
  unsigned char len_dn[3], len_pw[3], len_op[3], len_msg[3];
  size_t n_dn = ber_length(len_dn, dn_len);
  size_t n_pw = ber_length(len_pw, pw_len);
  size_t op_len = 3 + 1 + n_dn + dn_len + 1 + n_pw + pw_len;
  size_t n_op = ber_length(len_op, op_len);
  size_t msg_len = 3 + 1 + n_op + op_len;
  size_t n_msg = ber_length(len_msg, msg_len);
  size_t at = 0;
  out[at++] = 0x30;
  memcpy(out + at, len_msg, n_msg), at += n_msg;
  out[at++] = 0x02, out[at++] = 0x01, out[at++] = 0x01; /* messageID 1 */
  out[at++] = 0x60;
  memcpy(out + at, len_op, n_op), at += n_op;
  out[at++] = 0x02, out[at++] = 0x01, out[at++] = 0x03; /* version 3 */
  out[at++] = 0x04;
  memcpy(out + at, len_dn, n_dn), at += n_dn;
  memcpy(out + at, dn, dn_len), at += dn_len;
  out[at++] = 0x80;
  memcpy(out + at, len_pw, n_pw), at += n_pw;
  memcpy(out + at, pw, pw_len), at += pw_len;
  return at;
}

/* Reads a TLV header at buf[*at]; returns the content length or -1. */
static long tlv(const unsigned char *buf, size_t size, size_t *at, unsigned char tag) {
  if (*at + 2 > size || buf[*at] != tag) return -1;
  size_t i = *at + 1;
  size_t length = buf[i++];
  if (length & 0x80) {
    size_t octets = length & 0x7f;
    if (octets == 0 || octets > 2 || i + octets > size) return -1;
    length = 0;
    while (octets--) length = (length << 8) | buf[i++];
  }
  if (i + length > size) return -1;
  *at = i;
  return (long)length;
}

/* 1 if the verifier answered the bind with resultCode success (0). */
static int bind_succeeded(const unsigned char *buf, size_t size) {
  size_t at = 0;
  if (tlv(buf, size, &at, 0x30) < 0) return 0;
  long id = tlv(buf, size, &at, 0x02);
  if (id < 0) return 0;
  at += (size_t)id;
  if (tlv(buf, size, &at, 0x61) < 0) return 0;
  long code = tlv(buf, size, &at, 0x0a);
  return code == 1 && buf[at] == 0;
}

/* Asks the verifier on 127.0.0.1:DBTUNNEL_IAM_VERIFIER_PORT. */
static int verify_token(const char *user, size_t user_len, const char *address, size_t address_len,
                        const char *token, size_t token_len) {
  const char *port_text = getenv("DBTUNNEL_IAM_VERIFIER_PORT");
  long port = port_text ? strtol(port_text, NULL, 10) : 0;
  if (port <= 0 || port > 65535) return 0;

  static const char prefix[] = "cn=", middle[] = ",dc=", suffix[] = ",dc=rds-iam-mysql";
  char dn[MYSQL_USERNAME_LENGTH + MAX_ADDRESS + sizeof prefix + sizeof middle + sizeof suffix];
  size_t dn_len = 0;
  memcpy(dn, prefix, sizeof prefix - 1), dn_len += sizeof prefix - 1;
  memcpy(dn + dn_len, user, user_len), dn_len += user_len;
  memcpy(dn + dn_len, middle, sizeof middle - 1), dn_len += sizeof middle - 1;
  memcpy(dn + dn_len, address, address_len), dn_len += address_len;
  memcpy(dn + dn_len, suffix, sizeof suffix - 1), dn_len += sizeof suffix - 1;

  unsigned char request[MAX_TOKEN + sizeof dn + 32];
  size_t request_len = bind_request(request, dn, dn_len, token, token_len);

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  struct timeval timeout = {VERIFIER_TIMEOUT_SECONDS, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ok = 0;
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
    size_t sent = 0;
    while (sent < request_len) {
      ssize_t n = send(fd, request + sent, request_len - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += (size_t)n;
    }
    if (sent == request_len) {
      unsigned char answer[512];
      size_t got = 0;
      /* The BindResponse is small; read until the peer has sent one whole message or closes. */
      while (got < sizeof answer) {
        ssize_t n = recv(fd, answer + got, sizeof answer - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
        size_t at = 0;
        long body = tlv(answer, got, &at, 0x30);
        if (body >= 0 && at + (size_t)body <= got) {
          ok = bind_succeeded(answer, got);
          break;
        }
      }
    }
  }
  close(fd);
  return ok;
}

/* An IP address literal (what host_or_ip is with skip-name-resolve); nothing else goes into the DN. */
static int safe_address(const char *address, size_t len) {
  if (len == 0 || len > MAX_ADDRESS) return 0;
  for (size_t i = 0; i < len; i++) {
    if (!strchr("0123456789abcdefABCDEF.:", address[i])) return 0;
  }
  return 1;
}

/* Characters that would change the meaning of the bind DN. */
static int safe_user(const char *user, size_t len) {
  if (len == 0 || len > MYSQL_USERNAME_LENGTH) return 0;
  for (size_t i = 0; i < len; i++) {
    if (strchr(",=+<>#;\\\"", user[i]) || (unsigned char)user[i] < 0x20) return 0;
  }
  return 1;
}

static int authenticate(MYSQL_PLUGIN_VIO *vio, MYSQL_SERVER_AUTH_INFO *info) {
  unsigned char *packet;
  /* The first read makes MariaDB ask the client to switch to mysql_clear_password. */
  int length = vio->read_packet(vio, &packet);
  if (length < 0) return CR_ERROR;
  info->password_used = PASSWORD_USED_YES;
  /* mysql_clear_password sends the password with a terminating NUL. */
  size_t token_len = strnlen((const char *)packet, (size_t)length);
  if (token_len == 0 || token_len > MAX_TOKEN) return CR_ERROR;
  /* RDS users are created AS 'RDS'; any other authentication string is not an IAM user. */
  if (info->auth_string_length != 3 || memcmp(info->auth_string, "RDS", 3) != 0) return CR_ERROR;
  if (!info->user_name || !safe_user(info->user_name, info->user_name_length)) return CR_ERROR;
  if (!info->host_or_ip || !safe_address(info->host_or_ip, info->host_or_ip_length)) return CR_ERROR;
  return verify_token(info->user_name, info->user_name_length, info->host_or_ip, info->host_or_ip_length,
                      (const char *)packet, token_len)
             ? CR_OK
             : CR_ERROR;
}

static struct st_mysql_auth aws_auth = {
    MYSQL_AUTHENTICATION_INTERFACE_VERSION, "mysql_clear_password", authenticate, NULL, NULL};

int _maria_plugin_interface_version_ = MARIA_PLUGIN_INTERFACE_VERSION;
int _maria_sizeof_struct_st_plugin_ = sizeof(struct st_maria_plugin);
struct st_maria_plugin _maria_plugin_declarations_[] = {
    {MYSQL_AUTHENTICATION_PLUGIN, &aws_auth, "AWSAuthenticationPlugin", "dbtunnel sandbox",
     "RDS IAM database authentication, verified by the dbtunnel sandbox", PLUGIN_LICENSE_GPL, NULL, NULL,
     0x0100, NULL, NULL, "1.0", MARIADB_PLUGIN_MATURITY_STABLE},
    {0, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, NULL, 0}};
