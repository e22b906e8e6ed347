// trainyard: the command line (and, later, the server). Thin: everything lives in app/.
#include "app/cli.h"

int main(int argc, char** argv) {
  return trainyard::app::Main(argc, argv);
}
