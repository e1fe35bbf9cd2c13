// il-config-keys: prints every component's declared configuration keys, one per line:
//   component  name  aliases  env-vars  type  default  subkeys  doc   (tab-separated)
// scripts/check_config_doc.py compares them with docs/configuration.md.
#include <iostream>

#include "daemon/config_catalog.h"

int main() {
  std::cout << il::config::DumpKeys(il::ConfigCatalog());
  return 0;
}
