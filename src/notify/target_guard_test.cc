#include "notify/target_guard.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace trainyard::notify {
namespace {

std::string Reason(const std::string& text) {
  sockaddr_storage storage{};
  if (text.find(':') != std::string::npos) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    v6->sin6_family = AF_INET6;
    EXPECT_EQ(inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr), 1) << text;
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    EXPECT_EQ(inet_pton(AF_INET, text.c_str(), &v4->sin_addr), 1) << text;
  }
  return ForbiddenAddressReason(reinterpret_cast<sockaddr*>(&storage));
}

TEST(TargetGuardTest, ClassifiesTheAddressesAWebhookMustNotReach) {
  EXPECT_EQ(Reason("127.0.0.1"), "loopback");
  EXPECT_EQ(Reason("127.8.9.10"), "loopback");
  EXPECT_EQ(Reason("::1"), "loopback");
  EXPECT_EQ(Reason("169.254.169.254"), "cloud metadata");
  EXPECT_EQ(Reason("fd00:ec2::254"), "cloud metadata");
  EXPECT_EQ(Reason("169.254.1.2"), "link-local");
  EXPECT_EQ(Reason("fe80::1"), "link-local");
  EXPECT_EQ(Reason("0.0.0.0"), "unspecified");
  EXPECT_EQ(Reason("::"), "unspecified");
  EXPECT_EQ(Reason("10.1.2.3"), "private");
  EXPECT_EQ(Reason("172.16.0.1"), "private");
  EXPECT_EQ(Reason("172.31.255.255"), "private");
  EXPECT_EQ(Reason("192.168.1.1"), "private");
  EXPECT_EQ(Reason("100.64.0.1"), "private");
  EXPECT_EQ(Reason("fd12:3456::1"), "private");
  EXPECT_EQ(Reason("224.0.0.1"), "multicast or reserved");
  // IPv4 reached through IPv6 forms is judged as IPv4.
  EXPECT_EQ(Reason("::ffff:127.0.0.1"), "loopback");
  EXPECT_EQ(Reason("::ffff:169.254.169.254"), "cloud metadata");
  // Public addresses pass.
  EXPECT_EQ(Reason("203.0.113.7"), "");
  EXPECT_EQ(Reason("172.32.0.1"), "");
  EXPECT_EQ(Reason("8.8.8.8"), "");
  EXPECT_EQ(Reason("2001:db8::1"), "");
}

TEST(TargetGuardTest, ParsesHttpUrlsAndNamesTheFieldOfABadOne) {
  auto target = ParseWebhookUrl("https://hooks.example.com/services/T/B/X");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  EXPECT_EQ(target->scheme, "https");
  EXPECT_EQ(target->host, "hooks.example.com");
  EXPECT_EQ(target->port, 443);
  auto v6 = ParseWebhookUrl("http://[::1]:8080/hook");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8080);
  for (const char* bad : {"", "ftp://example.com/", "not a url", "https://user:pw@example.com/",
                          "file:///etc/passwd"}) {
    auto parsed = ParseWebhookUrl(bad);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(parsed.status().message().rfind("field 'url': ", 0), 0u) << parsed.status().message();
  }
}

TEST(TargetGuardTest, ResolvedLoopbackAndMetadataTargetsAreRefusedUnlessAllowed) {
  auto loopback = ResolveTarget({"http", "127.0.0.1", 80}, /*allow_private=*/false);
  EXPECT_EQ(loopback.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(loopback.status().message().find("loopback"), std::string::npos);
  EXPECT_NE(loopback.status().message().find("--webhook-allow-private"), std::string::npos);
  auto metadata = ResolveTarget({"http", "169.254.169.254", 80}, false);
  EXPECT_EQ(metadata.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(metadata.status().message().find("cloud metadata"), std::string::npos);
  auto localhost = ResolveTarget({"http", "localhost", 80}, false);
  EXPECT_FALSE(localhost.ok());
  auto allowed = ResolveTarget({"http", "127.0.0.1", 80}, /*allow_private=*/true);
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  EXPECT_EQ(*allowed, std::vector<std::string>{"127.0.0.1"});
  auto public_address = ResolveTarget({"https", "203.0.113.7", 443}, false);
  ASSERT_TRUE(public_address.ok());
}

}  // namespace
}  // namespace trainyard::notify
