/* A shared object without the entry symbol: the host must refuse it. */
int not_a_plugin(void);
int not_a_plugin(void) { return 1; }
