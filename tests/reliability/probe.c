/* The C participant of the reliability suites: the probe command line (see README.md
 * in this folder) over the C ABI. HOME and PRINCIPAL may be given as hex:<hex digits>
 * to pass bytes a shell argument cannot (non-UTF-8, control characters), or as
 * file:<path> for the bytes of a file (a 1 MiB principal exceeds one argument). A C string
 * cannot hold a NUL byte: hex with a 00 ends the string there, as C itself would. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "drain_control.h"

static char *arg_bytes(const char *arg) {
  if (strncmp(arg, "file:", 5) == 0) {
    FILE *f = fopen(arg + 5, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap + 1);
    size_t got;
    while (out && (got = fread(out + len, 1, cap - len, f)) > 0) {
      len += got;
      if (len == cap) {
        cap *= 2;
        char *bigger = realloc(out, cap + 1);
        if (!bigger) free(out);
        out = bigger;
      }
    }
    fclose(f);
    if (out) out[len] = 0;
    return out;
  }
  if (strncmp(arg, "hex:", 4) != 0) return strdup(arg);
  const char *hex = arg + 4;
  size_t n = strlen(hex) / 2;
  char *out = calloc(n + 1, 1);
  if (!out) return NULL;
  for (size_t i = 0; i < n; i++) {
    unsigned int byte;
    if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
      free(out);
      return NULL;
    }
    out[i] = (char)byte;
  }
  return out;
}

/* Sentinels: system calls naming these paths mark where the library call begins and
 * ends in an strace of the probe (the fault and crash suites count from them). */
static void sentinel(const char *path) { (void)access(path, F_OK); }

static long long now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static double wall(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char *status_name(drain_status st) {
  switch (st) {
    case DRAIN_STATUS_OK: return "ok";
    case DRAIN_STATUS_NULL_ARGUMENT: return "null_argument";
    case DRAIN_STATUS_INVALID_UTF8: return "invalid_utf8";
    case DRAIN_STATUS_BUFFER_TOO_SMALL: return "buffer_too_small";
    case DRAIN_STATUS_IO_ERROR: return "io_error";
    case DRAIN_STATUS_PANIC: return "panic";
    case DRAIN_STATUS_INVALID_ARGUMENT: return "invalid_argument";
    case DRAIN_STATUS_INVALID_PAYLOAD: return "invalid_payload";
    case DRAIN_STATUS_HELD: return "held";
    case DRAIN_STATUS_LOST: return "lost";
    case DRAIN_STATUS_BUSY: return "busy";
    case DRAIN_STATUS_INVALID_TOKEN: return "invalid_token";
    default: return "unknown";
  }
}

/* The read result as JSON text in a malloc'd buffer, growing as the ABI asks. */
static char *read_text(const char *home, drain_status *st_out) {
  size_t cap = 512, len = 0;
  char *buf = malloc(cap);
  for (int attempt = 0; buf && attempt < 8; attempt++) {
    drain_status st = drain_read(home, buf, cap, &len);
    if (st == DRAIN_STATUS_OK) {
      *st_out = st;
      return buf;
    }
    if (st != DRAIN_STATUS_BUFFER_TOO_SMALL) {
      *st_out = st;
      free(buf);
      return NULL;
    }
    free(buf);
    cap = len + 1;
    buf = malloc(cap);
  }
  free(buf);
  *st_out = DRAIN_STATUS_BUFFER_TOO_SMALL;
  return NULL;
}

static int report_status(const char *op, drain_status st, int err, long long us) {
  if (st == DRAIN_STATUS_IO_ERROR)
    printf("{\"ok\":false,\"op\":\"%s\",\"status\":\"%s\",\"errno\":%d,\"path\":null,\"us\":%lld}\n",
           op, status_name(st), err, us);
  else
    printf("{\"ok\":false,\"op\":\"%s\",\"status\":\"%s\",\"errno\":null,\"path\":null,\"us\":%lld}\n",
           op, status_name(st), us);
  return 1;
}

/* The length of the valid UTF-8 sequence at s (n bytes left), 0 if none starts there
 * (the rules of Python's UTF-8 decoder: no overlong forms, no surrogates, <= U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) len = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else return 0;
  if (n < len) return 0;
  if (s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xBF) return 0;
  return len;
}

/* Bytes as a JSON string, as Python's os.fsdecode reads them: UTF-8, and each byte
 * that is not part of valid UTF-8 as the lone surrogate \udcXX (surrogateescape), so
 * that the suite compares a reported path with the str of the path it expects. */
static void fprint_json_bytes(FILE *out, const char *text, size_t len) {
  const unsigned char *s = (const unsigned char *)text;
  fputc('"', out);
  for (size_t i = 0; i < len;) {
    size_t n = utf8_len(s + i, len - i);
    if (n == 0) {
      fprintf(out, "\\udc%02x", s[i]);
      i++;
    } else if (n == 1) {
      unsigned char c = s[i];
      if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
      else if (c < 0x20 || c == 0x7f) fprintf(out, "\\u%04x", c);
      else fputc(c, out);
      i++;
    } else {
      fwrite(s + i, 1, n, out);
      i += n;
    }
  }
  fputc('"', out);
}

static void print_json_bytes(const char *text, size_t len) { fprint_json_bytes(stdout, text, len); }

/* A failed drain_write_ex/drain_clear_ex, with what its drain_error says: the step,
 * the marker, the path the failing call acted on, whether the old marker is untouched
 * and the message. A text cut to fit its array (len >= capacity) is reported as cut. */
static int report_error(const char *op, drain_status st, const drain_error *e, long long us) {
  printf("{\"ok\":false,\"op\":\"%s\",\"status\":\"%s\",", op, status_name(st));
  if (st == DRAIN_STATUS_IO_ERROR) printf("\"errno\":%d,", e->os_error);
  else printf("\"errno\":null,");
  printf("\"os_error\":%d,\"step\":\"%s\",\"marker_untouched\":%s,", e->os_error, drain_step_name(e->step),
         e->marker_untouched ? "true" : "false");
  printf("\"marker\":");
  print_json_bytes(e->marker, e->marker_len < DRAIN_ERROR_PATH_CAPACITY ? e->marker_len : DRAIN_ERROR_PATH_CAPACITY - 1);
  printf(",\"marker_cut\":%s,\"path\":", e->marker_len >= DRAIN_ERROR_PATH_CAPACITY ? "true" : "false");
  print_json_bytes(e->path, e->path_len < DRAIN_ERROR_PATH_CAPACITY ? e->path_len : DRAIN_ERROR_PATH_CAPACITY - 1);
  printf(",\"path_cut\":%s,\"message\":", e->path_len >= DRAIN_ERROR_PATH_CAPACITY ? "true" : "false");
  print_json_bytes(e->message,
                   e->message_len < DRAIN_ERROR_MESSAGE_CAPACITY ? e->message_len : DRAIN_ERROR_MESSAGE_CAPACITY - 1);
  printf(",\"us\":%lld}\n", us);
  return 1;
}

/* --- leases (CONTRACT.md) --- */

/* CLOCK_REALTIME as "<seconds>.<microseconds>", the loops' log time. */
static void log_time(FILE *log) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  fprintf(log, "%lld.%06ld ", (long long)t.tv_sec, t.tv_nsec / 1000);
}

/* Who holds the drain, as JSON: null when there is no marker (a lost lease's marker
 * removed). The principal is JSON text already (a string comes quoted); one cut to fit
 * is printed as a string of what fits. */
static void print_holder(FILE *out, const drain_holder *h) {
  if (h->state == DRAIN_STATE_ABSENT) {
    fprintf(out, "null");
    return;
  }
  fprintf(out, "{\"principal\":");
  if (h->principal_len < DRAIN_HOLDER_TEXT_CAPACITY) fprintf(out, "%s", h->principal);
  else fprint_json_bytes(out, h->principal, DRAIN_HOLDER_TEXT_CAPACITY - 1);
  fprintf(out, ",\"requested_at\":");
  if (h->has_requested_at) fprint_json_bytes(out, h->requested_at, strlen(h->requested_at));
  else fprintf(out, "null");
  fprintf(out, ",\"owned\":%s,\"state\":\"%s\"}", h->owned ? "true" : "false", drain_state_name(h->state));
}

/* A failed lease operation: the status, who holds the drain (held, lost) and what
 * the drain_error says (its step is "lock" for the lock file, "create_home"...). */
static int report_lease(const char *op, drain_status st, const drain_holder *h, const drain_error *e, long long us) {
  printf("{\"ok\":false,\"op\":\"%s\",\"status\":\"%s\",\"holder\":", op, status_name(st));
  if (st == DRAIN_STATUS_HELD || st == DRAIN_STATUS_LOST) print_holder(stdout, h);
  else printf("null");
  printf(",\"errno\":");
  if (st == DRAIN_STATUS_IO_ERROR) printf("%d", e->os_error);
  else printf("null");
  printf(",\"os_error\":%d,\"step\":\"%s\",\"marker_untouched\":%s,\"marker\":", e->os_error,
         drain_step_name(e->step), e->marker_untouched ? "true" : "false");
  print_json_bytes(e->marker, e->marker_len < DRAIN_ERROR_PATH_CAPACITY ? e->marker_len : DRAIN_ERROR_PATH_CAPACITY - 1);
  printf(",\"marker_cut\":%s,\"path\":", e->marker_len >= DRAIN_ERROR_PATH_CAPACITY ? "true" : "false");
  print_json_bytes(e->path, e->path_len < DRAIN_ERROR_PATH_CAPACITY ? e->path_len : DRAIN_ERROR_PATH_CAPACITY - 1);
  printf(",\"path_cut\":%s,\"message\":", e->path_len >= DRAIN_ERROR_PATH_CAPACITY ? "true" : "false");
  print_json_bytes(e->message,
                   e->message_len < DRAIN_ERROR_MESSAGE_CAPACITY ? e->message_len : DRAIN_ERROR_MESSAGE_CAPACITY - 1);
  printf(",\"us\":%lld}\n", us);
  return 1;
}

/* One begin, timed; *us receives the microseconds it took. */
static drain_status lease_begin(const char *home, const char *principal, uint64_t wait_ms, drain_lease **lease,
                                drain_holder *h, drain_error *e, long long *us) {
  memset(e, 0xA5, sizeof *e); /* garbage: the library must write every field it reports */
  long long t0 = now_us();
  drain_status st = drain_lease_begin(home, principal, false, wait_ms, lease, h, e);
  *us = now_us() - t0;
  return st;
}

/* begin, keep-alive, release and loop-lease (README.md); -1 for another command. */
static int lease_command(const char *cmd, const char *home, int argc, char **argv) {
  drain_lease *lease = NULL;
  drain_holder h;
  drain_error e;
  char token[64];
  size_t len = 0;
  long long us;
  if (strcmp(cmd, "begin") == 0 && argc >= 4) {
    char *principal = arg_bytes(argv[3]);
    uint64_t wait_ms = argc >= 5 ? strtoull(argv[4], NULL, 10) : 0;
    sentinel("/drain-probe-begin");
    drain_status st = lease_begin(home, principal, wait_ms, &lease, &h, &e, &us);
    sentinel("/drain-probe-end");
    if (st != DRAIN_STATUS_OK) return report_lease("begin", st, &h, &e, us);
    drain_lease_token(lease, token, sizeof token, &len);
    printf("{\"ok\":true,\"op\":\"begin\",\"token\":\"%s\",\"us\":%lld}\n", token, us);
    drain_lease_free(lease); /* not held: the drain stays */
    return 0;
  }
  if ((strcmp(cmd, "keep-alive") == 0 || strcmp(cmd, "release") == 0) && argc >= 4) {
    drain_status st = drain_lease_resume(home, argv[3], &lease);
    if (st != DRAIN_STATUS_OK) {
      printf("{\"ok\":false,\"op\":\"%s\",\"status\":\"%s\",\"holder\":null}\n", cmd, status_name(st));
      return 1;
    }
    bool removed = false;
    memset(&e, 0xA5, sizeof e);
    sentinel("/drain-probe-begin");
    long long t0 = now_us();
    if (cmd[0] == 'k') st = drain_lease_keep_alive(lease, &h, &e);
    else st = drain_lease_release(lease, &removed, &e);
    us = now_us() - t0;
    sentinel("/drain-probe-end");
    drain_lease_free(lease);
    if (st != DRAIN_STATUS_OK) return report_lease(cmd, st, &h, &e, us);
    if (cmd[0] == 'k') printf("{\"ok\":true,\"op\":\"keep-alive\",\"us\":%lld}\n", us);
    else printf("{\"ok\":true,\"op\":\"release\",\"removed\":%s,\"us\":%lld}\n", removed ? "true" : "false", us);
    return 0;
  }
  if (strcmp(cmd, "loop-lease") == 0 && argc >= 6) {
    /* loop-lease HOME TAG SECONDS LOG [PAUSE_MS]: begin (no wait) TAG-1, TAG-2, ...;
     * each lease kept alive once and released (the release retried while busy), with
     * a pause after each call (a lease is held across two). A line per event
     * (README.md): "begun TOKEN US", "kept TOKEN", "lost TOKEN HOLDER", "keep-busy
     * TOKEN US", "release-busy TOKEN US", "released TOKEN REMOVED" (its time taken
     * before the call: every time of a lease's lines falls while its marker exists),
     * "held US", "busy US", "!error ...". */
    double until = argv[4][0] == '@' ? atof(argv[4] + 1) : wall() + atof(argv[4]);
    FILE *log = fopen(argv[5], "w");
    if (!log) return 2;
    struct timespec pause = {0, 0};
    if (argc >= 7) {
      long ms = atol(argv[6]);
      pause.tv_sec = ms / 1000;
      pause.tv_nsec = (ms % 1000) * 1000000L;
    }
    long ops = 0, begun = 0, held = 0, busy = 0, failures = 0;
    char principal[512];
    /* The loop's own pause follows a begin that failed, or a release. */
    for (; wall() < until; nanosleep(&pause, NULL)) {
      ops++;
      snprintf(principal, sizeof principal, "%s-%ld", argv[3], ops);
      drain_status st = lease_begin(home, principal, 0, &lease, &h, &e, &us);
      if (st == DRAIN_STATUS_HELD || st == DRAIN_STATUS_BUSY) {
        if (st == DRAIN_STATUS_HELD) held++;
        else busy++;
        log_time(log);
        fprintf(log, "%s %lld\n", status_name(st), us);
        continue;
      }
      if (st != DRAIN_STATUS_OK) {
        failures++;
        log_time(log);
        fprintf(log, "!error begin %s %.*s\n", status_name(st), (int)strnlen(e.message, DRAIN_ERROR_MESSAGE_CAPACITY),
                e.message);
        continue;
      }
      begun++;
      drain_lease_token(lease, token, sizeof token, &len);
      log_time(log);
      fprintf(log, "begun %s %lld\n", token, us);
      nanosleep(&pause, NULL);
      long long t0 = now_us();
      st = drain_lease_keep_alive(lease, &h, &e);
      log_time(log);
      if (st == DRAIN_STATUS_OK) {
        fprintf(log, "kept %s\n", token);
      } else if (st == DRAIN_STATUS_LOST) {
        fprintf(log, "lost %s ", token);
        print_holder(log, &h);
        fprintf(log, "\n");
      } else if (st == DRAIN_STATUS_BUSY) {
        fprintf(log, "keep-busy %s %lld\n", token, now_us() - t0);
      } else {
        failures++;
        fprintf(log, "!error keep-alive %s %s\n", token, status_name(st));
      }
      nanosleep(&pause, NULL);
      for (;;) {
        bool removed = false;
        log_time(log);
        t0 = now_us();
        st = drain_lease_release(lease, &removed, &e);
        if (st == DRAIN_STATUS_BUSY) {
          fprintf(log, "release-busy %s %lld\n", token, now_us() - t0);
          continue;
        }
        if (st == DRAIN_STATUS_OK) {
          fprintf(log, "released %s %s\n", token, removed ? "true" : "false");
        } else {
          failures++;
          fprintf(log, "!error release %s %s\n", token, status_name(st));
        }
        break;
      }
      drain_lease_free(lease);
    }
    fclose(log);
    printf("{\"ops\":%ld,\"begun\":%ld,\"held\":%ld,\"busy\":%ld,\"failures\":%ld}\n", ops, begun, held, busy, failures);
    return failures ? 1 : 0;
  }
  return -1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: probe write|clear|read|inspect|loop-read|begin|keep-alive|release|loop-lease HOME ...\n");
    return 2;
  }
  const char *cmd = argv[1];
  char *home = arg_bytes(argv[2]);
  if (!home) return 2;
  if (strcmp(cmd, "write") == 0 && argc >= 4) {
    char *principal = arg_bytes(argv[3]);
    bool suppress = argc >= 5 && strcmp(argv[4], "true") == 0;
    drain_error err;
    memset(&err, 0xA5, sizeof err); /* garbage: the library must write every field */
    sentinel("/drain-probe-begin");
    long long t0 = now_us();
    drain_status st = drain_write_ex(home, principal, suppress, &err);
    long long us = now_us() - t0;
    sentinel("/drain-probe-end");
    if (st != DRAIN_STATUS_OK) return report_error("write", st, &err, us);
    printf("{\"ok\":true,\"op\":\"write\",\"us\":%lld}\n", us);
    return 0;
  }
  if (strcmp(cmd, "clear") == 0) {
    bool existed = false;
    drain_error err;
    memset(&err, 0xA5, sizeof err); /* garbage: the library must write every field */
    sentinel("/drain-probe-begin");
    long long t0 = now_us();
    drain_status st = drain_clear_ex(home, &existed, &err);
    long long us = now_us() - t0;
    sentinel("/drain-probe-end");
    if (st != DRAIN_STATUS_OK) return report_error("clear", st, &err, us);
    printf("{\"ok\":true,\"op\":\"clear\",\"existed\":%s,\"us\":%lld}\n", existed ? "true" : "false", us);
    return 0;
  }
  if (strcmp(cmd, "read") == 0) {
    drain_status st;
    sentinel("/drain-probe-begin");
    long long t0 = now_us();
    char *text = read_text(home, &st);
    long long us = now_us() - t0;
    sentinel("/drain-probe-end");
    if (!text) return report_status("read", st, 0, us);
    printf("{\"ok\":true,\"op\":\"read\",\"read\":%s,\"us\":%lld}\n", text, us);
    free(text);
    return 0;
  }
  if (strcmp(cmd, "inspect") == 0) {
    drain_verdict v;
    sentinel("/drain-probe-begin");
    long long t0 = now_us();
    drain_status st = drain_inspect(home, &v);
    long long us = now_us() - t0;
    sentinel("/drain-probe-end");
    if (st != DRAIN_STATUS_OK) return report_status("inspect", st, 0, us);
    printf("{\"ok\":true,\"op\":\"inspect\",\"present\":%s,\"active\":%s,\"suppressed\":%s,\"us\":%lld}\n",
           v.present ? "true" : "false", v.active ? "true" : "false", v.suppressed ? "true" : "false", us);
    return 0;
  }
  if (strcmp(cmd, "loop-read") == 0 && argc >= 5) {
    /* loop-read HOME SECONDS OUT: every distinct consecutive read result, one per line. */
    /* SECONDS: a duration, or @<unix time> shared by several processes. */
    double until = argv[3][0] == '@' ? atof(argv[3] + 1) : wall() + atof(argv[3]);
    FILE *out = fopen(argv[4], "w");
    if (!out) return 2;
    char *last = NULL;
    long reads = 0, failures = 0;
    while (wall() < until) {
      drain_status st;
      char *text = read_text(home, &st);
      reads++;
      if (!text) {
        failures++;
        fprintf(out, "!status %s\n", status_name(st));
        continue;
      }
      if (!last || strcmp(last, text) != 0) {
        fprintf(out, "%s\n", text);
        free(last);
        last = text;
      } else {
        free(text);
      }
    }
    free(last);
    fclose(out);
    printf("{\"reads\":%ld,\"failures\":%ld}\n", reads, failures);
    return failures ? 1 : 0;
  }
  int lease_rc = lease_command(cmd, home, argc, argv);
  if (lease_rc >= 0) return lease_rc;
  fprintf(stderr, "probe: unknown command or missing arguments\n");
  return 2;
}
