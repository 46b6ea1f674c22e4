/* Least privilege: once its BPF programs are loaded and attached, virtscope
 * keeps only the capabilities reading the target still needs (and, for a
 * front end that re-attaches to a restarted target, attaching). */
#ifndef VS_PRIVS_H
#define VS_PRIVS_H

/* Drops every capability but those listed in privs.c, and with keep_attach
 * those attaching again needs. 0 or -errno. */
int vs_drop_privileges(int keep_attach);

#endif
