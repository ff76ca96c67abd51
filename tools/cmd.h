/* cmd: fwpkg's subcommands, one file each; each returns an exit code. */
#ifndef FW_CMD_H
#define FW_CMD_H

int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_catalog(int argc, char **argv);
int cmd_unlock_token(int argc, char **argv);

#endif
