// SOURCE_DATE_EPOCH parsed once: valid values, absence, and a clear error for anything else.
#include "common/build_date.hpp"

#include <catch2/catch.hpp>

using binder::common::parse_source_date_epoch;

TEST_CASE("build date: SOURCE_DATE_EPOCH gives the file time, unset gives the default") {
  auto d = parse_source_date_epoch("86400");
  REQUIRE(d);
  CHECK(d->source_date_epoch == 86400);
  CHECK(d->file_time() == 86400);
  auto zero = parse_source_date_epoch("0");
  REQUIRE(zero);
  CHECK(zero->file_time() == 0);
  for (const char* unset : {static_cast<const char*>(nullptr), ""}) {
    auto u = parse_source_date_epoch(unset);
    REQUIRE(u);
    CHECK_FALSE(u->source_date_epoch.has_value());
    CHECK(u->file_time() == binder::common::k_default_file_time);
  }
}

TEST_CASE("build date: a bad SOURCE_DATE_EPOCH is a usage error naming it") {
  for (const char* bad : {"abc", "-1", "12x", " 12", "+5", "1.5", "99999999999999999999999"}) {
    INFO(bad);
    auto r = parse_source_date_epoch(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == binder::common::Errc::usage);
    CHECK(r.error().message.find("SOURCE_DATE_EPOCH") != std::string::npos);
  }
}
