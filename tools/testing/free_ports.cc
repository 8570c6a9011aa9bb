// free_ports N: prints N distinct loopback TCP ports, one per line, that
// were free a moment ago (each bound to port 0 while the others are held,
// then all closed). For shell tests that start servers on fixed ports; a
// port taken in between makes the server exit 2 naming it, so a test may
// retry with fresh ports.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr int kPortsMax = 64;

}  // namespace

int main(int argc, char** argv) {
  char* end = nullptr;
  const int64_t count = argc == 2 ? std::strtoll(argv[1], &end, 10) : 0;
  if (count < 1 || count > kPortsMax || end == nullptr || *end != '\0') {
    std::cerr << "usage: free_ports N (1.." << kPortsMax << ")\n";
    return 2;
  }
  std::vector<int> fds;
  std::vector<int> ports;
  for (int64_t i = 0; i < count; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd < 0 ||
        bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      std::cerr << "free_ports: cannot bind a loopback port\n";
      return 1;
    }
    fds.push_back(fd);
    ports.push_back(ntohs(address.sin_port));
  }
  for (const int fd : fds) close(fd);
  for (const int port : ports) std::cout << port << "\n";
  return 0;
}
