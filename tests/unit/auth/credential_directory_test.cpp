#include "auth/credential_directory.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "auth/api_key.hpp"
#include "store/sqlite/sqlite_credentials.hpp"
#include "support/test_env.hpp"

namespace cg::auth {
namespace {

using namespace std::chrono_literals;

class CredentialDirectoryTest : public ::testing::Test {
  protected:
    test::TempDir dir_;
    std::string data_dir() const { return dir_.path().string(); }
    CredentialDirectory::Opener opener() {
        return [this] {
            return std::make_unique<store::sqlite::SqliteCredentials>(data_dir(), false);
        };
    }
};

// Polls `fn` until true (bounded).
template <typename Fn>
bool eventually(Fn fn) {
    for (int i = 0; i < 500; ++i) {
        if (fn()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

TEST_F(CredentialDirectoryTest, KeysAndSecretsChangedInTheStoreApplyAfterARefresh) {
    store::sqlite::SqliteCredentials admin(data_dir(), true);
    const auto first = generate_api_key("alpha", "", 1);
    ASSERT_TRUE(admin.add_api_key(first.record));
    CredentialDirectory directory(opener(), 20ms);
    directory.start();
    EXPECT_EQ(directory.client_for_key(first.key), "alpha");
    EXPECT_EQ(directory.active_keys(), 1u);

    const auto second = generate_api_key("beta", "", 2);
    ASSERT_TRUE(admin.add_api_key(second.record));
    ASSERT_TRUE(admin.set_client_secrets("beta", "whsec_AAAA whsec_BBBB", 3));
    EXPECT_TRUE(eventually([&] { return directory.client_for_key(second.key) == "beta"; }));
    EXPECT_TRUE(
        eventually([&] { return directory.secrets_of("beta") == "whsec_AAAA whsec_BBBB"; }));

    ASSERT_TRUE(admin.revoke_api_key(first.record.key_id, 4));
    EXPECT_TRUE(eventually([&] { return !directory.client_for_key(first.key); }));
    EXPECT_FALSE(admin.revoke_api_key("0000000000000000", 5));
    ASSERT_TRUE(admin.set_client_secrets("beta", "", 6));
    EXPECT_TRUE(eventually([&] { return directory.secrets_of("beta").empty(); }));
    directory.stop();
}

TEST_F(CredentialDirectoryTest, ReadersNeverWaitForOrRaceWithRefreshes) {
    store::sqlite::SqliteCredentials admin(data_dir(), true);
    const auto key = generate_api_key("alpha", "", 1);
    ASSERT_TRUE(admin.add_api_key(key.record));
    CredentialDirectory directory(opener(), 1ms);
    directory.start();
    std::atomic<bool> stop{false};
    std::atomic<int64_t> answered{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t) {
        readers.emplace_back([&] {
            while (!stop.load()) {
                if (directory.client_for_key(key.key) == "alpha") answered.fetch_add(1);
            }
        });
    }
    for (int i = 0; i < 20; ++i) {  // writes while the refresher re-reads
        ASSERT_TRUE(admin.add_api_key(generate_api_key("other", "", i).record));
        std::this_thread::sleep_for(2ms);
    }
    stop = true;
    for (auto& r : readers) r.join();
    directory.stop();
    ASSERT_TRUE(directory.refresh());  // the last write may have come after the last refresh
    EXPECT_GT(answered.load(), 0);
    EXPECT_EQ(directory.active_keys(), 21u);
}

}  // namespace
}  // namespace cg::auth
