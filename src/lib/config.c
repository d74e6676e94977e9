/* OpenVZ config files: one KEY="value" a line. Comments and unknown keys
 * are kept in place on rewrite, as vzctl does; files are replaced
 * atomically so a crash never leaves half a config. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include "internal.h"

bool vz_conf_key_valid(const char *key)
{
	if (!key || !(isalpha((unsigned char)key[0]) || key[0] == '_'))
		return false;
	size_t n = 0;
	for (const char *p = key; *p; p++, n++)
		if (!(isalnum((unsigned char)*p) || *p == '_'))
			return false;
	return n <= 64;
}

int vz_parse_bool(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "1"))
		return 1;
	if (!strcmp(s, "no") || !strcmp(s, "off") || !strcmp(s, "0"))
		return 0;
	return -1;
}

static void add_line(struct vz_conf *c, char *key, char *value, char *raw)
{
	struct vz_conf_line *l = realloc(c->lines, (c->n + 1) * sizeof(*l));
	if (!l)
		abort();
	c->lines = l;
	c->lines[c->n].key = key;
	c->lines[c->n].value = value;
	c->lines[c->n].raw = raw;
	c->n++;
}

/* A CR is a blank too, not part of an unquoted value: only the line's last
 * one goes as a CRLF ending, and a value that kept the others would lose
 * one more each time the file is rewritten. */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int parse_line(const char *line, char **key, char **value)
{
	const char *p = line;
	*key = *value = NULL;
	while (is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	const char *k = p;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	if (p == k || *p != '=')
		return -1;
	_cleanup_free_ char *kk = strndup(k, (size_t)(p - k));
	if (!kk)
		abort();
	if (!vz_conf_key_valid(kk))
		return -1;
	p++;
	const char *v, *end;
	if (*p == '"' || *p == '\'') {
		char q = *p++;
		v = p;
		end = strchr(p, q);
		if (!end)
			return -2;
		p = end + 1;
	} else {
		v = p;
		while (*p && !is_blank(*p) && *p != '#')
			p++;
		end = p;
	}
	while (is_blank(*p))
		p++;
	if (*p != '\0' && *p != '#')
		return -1;
	*value = strndup(v, (size_t)(end - v));
	if (!*value)
		abort();
	*key = kk;
	kk = NULL;
	return 1;
}

int vz_conf_parse(struct vz_conf *c, const char *text, const char *what,
		  vz_error *err)
{
	c->lines = NULL;
	c->n = 0;
	unsigned lineno = 0;
	const char *s = text;
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char *raw = strndup(s, len);
		if (!raw)
			abort();
		lineno++;
		if (len && raw[len - 1] == '\r')
			raw[len - 1] = '\0';
		char *key, *value;
		int r = parse_line(raw, &key, &value);
		if (r < 0) {
			free(raw);
			vz_conf_free(c);
			return vz_err(err, VZ_E_CONFIG, "%s:%u: %s", what, lineno,
				      r == -2 ? "unterminated quote"
					      : "expected KEY=\"value\"");
		}
		add_line(c, key, value, raw);
		s = nl ? nl + 1 : s + len;
	}
	return 0;
}

int vz_conf_load(struct vz_conf *c, const char *path, vz_error *err)
{
	size_t len = 0;
	c->lines = NULL;
	c->n = 0;
	_cleanup_free_ char *text = read_file(path, &len);
	if (!text) {
		return vz_err_errno(err, errno == ENOENT ? VZ_E_NOCONF : VZ_E_CONFIG,
				    errno, "cannot read %s", path);
	}
	if (memchr(text, '\0', len) != NULL || len > (1u << 20))
		return vz_err(err, VZ_E_CONFIG, "%s: not a config file", path);
	return vz_conf_parse(c, text, path, err);
}

const char *vz_conf_get(const struct vz_conf *c, const char *key)
{
	/* the last assignment wins, as when a shell sources the file */
	for (size_t i = c->n; i-- > 0;)
		if (c->lines[i].key && !strcmp(c->lines[i].key, key))
			return c->lines[i].value;
	return NULL;
}

bool vz_conf_value_ok(const char *v)
{
	return v && !strpbrk(v, "\"\n\r") && strlen(v) < 4096;
}

/* Refuses what cannot be written back as KEY="value". */
int vz_conf_set(struct vz_conf *c, const char *key, const char *value)
{
	if (!vz_conf_key_valid(key) || !vz_conf_value_ok(value))
		return -1;
	char *raw = xasprintf("%s=\"%s\"", key, value);
	for (size_t i = c->n; i-- > 0;) {
		struct vz_conf_line *l = &c->lines[i];
		if (l->key && !strcmp(l->key, key)) {
			free(l->value);
			free(l->raw);
			l->value = xstrdup(value);
			l->raw = raw;
			return 0;
		}
	}
	add_line(c, xstrdup(key), xstrdup(value), raw);
	return 0;
}

void vz_conf_unset(struct vz_conf *c, const char *key)
{
	size_t j = 0;
	for (size_t i = 0; i < c->n; i++) {
		struct vz_conf_line *l = &c->lines[i];
		if (l->key && !strcmp(l->key, key)) {
			free(l->key);
			free(l->value);
			free(l->raw);
			continue;
		}
		c->lines[j++] = *l;
	}
	c->n = j;
}

char *vz_conf_format(const struct vz_conf *c)
{
	size_t len = 1;
	for (size_t i = 0; i < c->n; i++)
		len += strlen(c->lines[i].raw) + 1;
	char *out = xmalloc(len);
	char *p = out;
	for (size_t i = 0; i < c->n; i++) {
		size_t l = strlen(c->lines[i].raw);
		memcpy(p, c->lines[i].raw, l);
		p += l;
		*p++ = '\n';
	}
	*p = '\0';
	return out;
}

int vz_conf_save(const struct vz_conf *c, const char *path, vz_error *err)
{
	_cleanup_free_ char *text = vz_conf_format(c);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return vz_err_errno(err, VZ_E_CONFSAVE, errno, "cannot write %s", tmp);
	if (write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return vz_err_errno(err, VZ_E_CONFSAVE, e, "cannot write %s", tmp);
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return vz_err_errno(err, VZ_E_CONFSAVE, e, "cannot rename %s", tmp);
	}
	_cleanup_free_ char *dir = xstrdup(path);
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

void vz_conf_free(struct vz_conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->lines[i].key);
		free(c->lines[i].value);
		free(c->lines[i].raw);
	}
	free(c->lines);
	c->lines = NULL;
	c->n = 0;
}
