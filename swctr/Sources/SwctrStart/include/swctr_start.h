#ifndef SWCTR_START_H
#define SWCTR_START_H

// What the constructor did with _SWCTR_USERNS_FDS: 0 nothing asked, 1 joined the rootless
// user and mount namespaces, -errno when joining failed.
int swctr_userns_joined(void);

#endif
