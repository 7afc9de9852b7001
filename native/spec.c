#include "spec.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static char *dup_string(json_t *value) {
  return json_is_string(value) ? strdup(json_string_value(value)) : NULL;
}

/* The strings of an array, NULL-terminated; NULL if it is not an array of strings. */
static char **strings(json_t *array) {
  size_t n = json_array_size(array);
  char **out = calloc(n + 1, sizeof(char *));
  for (size_t i = 0; i < n; i++) {
    out[i] = dup_string(json_array_get(array, i));
    if (!out[i]) return NULL;
  }
  return out;
}

static int side(json_t *value) {
  json_int_t n = json_is_integer(value) ? json_integer_value(value) : 0;
  return n >= 1 && n <= 1000 ? (int)n : 0;
}

host_spec *spec_parse(const char *text, size_t len, const char **error) {
  json_error_t jerr;
  json_t *root = json_loadb(text, len, 0, &jerr);
  if (!json_is_object(root)) {
    *error = "the spec is not a JSON object";
    json_decref(root);
    return NULL;
  }
  host_spec *spec = calloc(1, sizeof *spec);
  json_t *args = json_object_get(root, "args");
  json_t *env = json_object_get(root, "env");
  json_t *notices = json_object_get(root, "notices");
  spec->session_id = dup_string(json_object_get(root, "sessionId"));
  spec->socket_path = dup_string(json_object_get(root, "socketPath"));
  spec->file = dup_string(json_object_get(root, "file"));
  spec->cwd = dup_string(json_object_get(root, "cwd"));
  spec->cols = side(json_object_get(root, "cols"));
  spec->rows = side(json_object_get(root, "rows"));
  json_t *scrollback = json_object_get(root, "scrollbackBytes");
  spec->scrollback_bytes = json_is_integer(scrollback) && json_integer_value(scrollback) > 0
                               ? (size_t)json_integer_value(scrollback)
                               : 0;
  json_t *linger = json_object_get(root, "lingerMs");
  spec->linger_ms = json_is_number(linger) ? (long long)json_number_value(linger) : -1;
  if (!spec->session_id || !spec->socket_path || !spec->file || !spec->cwd || !spec->cols ||
      !spec->rows || (args && !json_is_array(args)) || !json_is_object(env) ||
      (notices && !json_is_array(notices))) {
    *error = "the spec lacks a field or has one of the wrong type";
    json_decref(root);
    return NULL;
  }
  char **argv = strings(args);
  spec->notices = strings(notices);
  if (!argv || !spec->notices) {
    *error = "an argument or a notice is not a string";
    json_decref(root);
    return NULL;
  }
  size_t n = 0;
  while (argv[n]) n++;
  spec->argv = calloc(n + 2, sizeof(char *));
  spec->argv[0] = strdup(spec->file);
  memcpy(spec->argv + 1, argv, n * sizeof(char *));
  free(argv);
  spec->envp = calloc(json_object_size(env) + 1, sizeof(char *));
  size_t i = 0;
  const char *name;
  json_t *value;
  json_object_foreach(env, name, value) {
    if (!json_is_string(value)) continue;
    const char *v = json_string_value(value);
    char *entry = malloc(strlen(name) + strlen(v) + 2);
    strcpy(entry, name);
    strcat(entry, "=");
    strcat(entry, v);
    spec->envp[i++] = entry;
  }
  json_decref(root);
  return spec;
}
