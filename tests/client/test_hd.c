/*
 * test_hd.c — BIP-39 and BIP-32 (src/client/hd.c) against published vectors,
 * and the Cosmos address a real client derives from a mnemonic:
 *   - the English wordlist: 2048 sorted words whose file form hashes to the
 *     well-known SHA-256 of bip-0039/english.txt;
 *   - the 24 English vectors of trezor/python-mnemonic's vectors.json (the
 *     BIP-39 reference): entropy -> mnemonic, mnemonic -> seed with the
 *     passphrase "TREZOR", seed -> master xprv;
 *   - BIP-32 test vectors 1 and 2 (bip-0032.mediawiki): every listed xprv
 *     (depth, parent fingerprint, child number, chain code, key);
 *   - tests/chain/cosmjs/vector_mnemonic.json, recorded with CosmJS 0.39's
 *     DirectSecp256k1HdWallet: mnemonic + HD path -> same pubkey and 20-byte
 *     address (wicas1... and cosmos1... carry the same bytes);
 *   - bad input: unknown words, bad checksum, wrong word counts, non-ASCII,
 *     malformed HD paths, each a clear error;
 *   - the keys export/import armor (keyring.c): round trip and tampering.
 */
#include <cjson/cJSON.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client.h"
#include "common.h"

/* entropy, mnemonic, seed (passphrase "TREZOR"), master xprv */
static const char *const BIP39_VECTORS[][4] = {
    {"00000000000000000000000000000000",
     "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
     "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3"
     "c4ab7c81b2f001698e7463b04",
     "xprv9s21ZrQH143K3h3fDYiay8mocZ3afhfULfb5GX8kCBdno77K4HiA15Tg23wpbeF1pLfs1c5SPmYHrEpTuuRhxMwvKDwqdKiGJS9"
     "XFKzUsAF"},
    {"7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
     "legal winner thank year wave sausage worth useful legal winner thank yellow",
     "2e8905819b8723fe2c1d161860e5ee1830318dbf49a83bd451cfb8440c28bd6fa457fe1296106559a3c80937a1c1069be3a3a5b"
     "d381ee6260e8d9739fce1f607",
     "xprv9s21ZrQH143K2gA81bYFHqU68xz1cX2APaSq5tt6MFSLeXnCKV1RVUJt9FWNTbrrryem4ZckN8k4Ls1H6nwdvDTvnV7zEXs2HgP"
     "ezuVccsq"},
    {"80808080808080808080808080808080",
     "letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
     "d71de856f81a8acc65e6fc851a38d4d7ec216fd0796d0a6827a3ad6ed5511a30fa280f12eb2e47ed2ac03b5c462a0358d18d69f"
     "e4f985ec81778c1b370b652a8",
     "xprv9s21ZrQH143K2shfP28KM3nr5Ap1SXjz8gc2rAqqMEynmjt6o1qboCDpxckqXavCwdnYds6yBHZGKHv7ef2eTXy461PXUjBFQg6"
     "PrwY4Gzq"},
    {"ffffffffffffffffffffffffffffffff", "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong",
     "ac27495480225222079d7be181583751e86f571027b0497b5b5d11218e0a8a13332572917f0f8e5a589620c6f15b11c61dee327"
     "651a14c34e18231052e48c069",
     "xprv9s21ZrQH143K2V4oox4M8Zmhi2Fjx5XK4Lf7GKRvPSgydU3mjZuKGCTg7UPiBUD7ydVPvSLtg9hjp7MQTYsW67rZHAXeccqYqrs"
     "x8LcXnyd"},
    {"000000000000000000000000000000000000000000000000",
     "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
     "abandon abandon abandon abandon abandon agent",
     "035895f2f481b1b0f01fcf8c289c794660b289981a78f8106447707fdd9666ca06da5a9a565181599b79f53b844d8a71dd9f439"
     "c52a3d7b3e8a79c906ac845fa",
     "xprv9s21ZrQH143K3mEDrypcZ2usWqFgzKB6jBBx9B6GfC7fu26X6hPRzVjzkqkPvDqp6g5eypdk6cyhGnBngbjeHTe4LsuLG1cCmKJ"
     "ka5SMkmU"},
    {"7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
     "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful "
     "legal will",
     "f2b94508732bcbacbcc020faefecfc89feafa6649a5491b8c952cede496c214a0c7b3c392d168748f2d4a612bada0753b52a1c7"
     "ac53c1e93abd5c6320b9e95dd",
     "xprv9s21ZrQH143K3Lv9MZLj16np5GzLe7tDKQfVusBni7toqJGcnKRtHSxUwbKUyUWiwpK55g1DUSsw76TF1T93VT4gz4wt5RM23pk"
     "aQLnvBh7"},
    {"808080808080808080808080808080808080808080808080",
     "letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor "
     "acoustic avoid letter always",
     "107d7c02a5aa6f38c58083ff74f04c607c2d2c0ecc55501dadd72d025b751bc27fe913ffb796f841c49b1d33b610cf0e91d3aa2"
     "39027f5e99fe4ce9e5088cd65",
     "xprv9s21ZrQH143K3VPCbxbUtpkh9pRG371UCLDz3BjceqP1jz7XZsQ5EnNkYAEkfeZp62cDNj13ZTEVG1TEro9sZ9grfRmcYWLBhCo"
     "cViKEJae"},
    {"ffffffffffffffffffffffffffffffffffffffffffffffff",
     "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo when",
     "0cd6e5d827bb62eb8fc1e262254223817fd068a74b5b449cc2f667c3f1f985a76379b43348d952e2265b4cd129090758b3e3c2c"
     "49103b5051aac2eaeb890a528",
     "xprv9s21ZrQH143K36Ao5jHRVhFGDbLP6FCx8BEEmpru77ef3bmA928BxsqvVM27WnvvyfWywiFN8K6yToqMaGYfzS6Db1EHAXT5Tuy"
     "CLBXUfdm"},
    {"0000000000000000000000000000000000000000000000000000000000000000",
     "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
     "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art",
     "bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd3097170af7a4d73245cafa9c3cca8d561a7c3de6f5d4"
     "a10be8ed2a5e608d68f92fcc8",
     "xprv9s21ZrQH143K32qBagUJAMU2LsHg3ka7jqMcV98Y7gVeVyNStwYS3U7yVVoDZ4btbRNf4h6ibWpY22iRmXq35qgLs79f312g2kj"
     "5539ebPM"},
    {"7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f",
     "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful "
     "legal winner thank year wave sausage worth title",
     "bc09fca1804f7e69da93c2f2028eb238c227f2e9dda30cd63699232578480a4021b146ad717fbb7e451ce9eb835f43620bf5c51"
     "4db0f8add49f5d121449d3e87",
     "xprv9s21ZrQH143K3Y1sd2XVu9wtqxJRvybCfAetjUrMMco6r3v9qZTBeXiBZkS8JxWbcGJZyio8TrZtm6pkbzG8SYt1sxwNLh3Wx7t"
     "o5pgiVFU"},
    {"8080808080808080808080808080808080808080808080808080808080808080",
     "letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor "
     "acoustic avoid letter advice cage absurd amount doctor acoustic bless",
     "c0c519bd0e91a2ed54357d9d1ebef6f5af218a153624cf4f2da911a0ed8f7a09e2ef61af0aca007096df430022f7a2b6fb91661"
     "a9589097069720d015e4e982f",
     "xprv9s21ZrQH143K3CSnQNYC3MqAAqHwxeTLhDbhF43A4ss4ciWNmCY9zQGvAKUSqVUf2vPHBTSE1rB2pg4avopqSiLVzXEU8KziNnV"
     "PauTqLRo"},
    {"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
     "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote",
     "dd48c104698c30cfe2b6142103248622fb7bb0ff692eebb00089b32d22484e1613912f0a5b694407be899ffd31ed3992c456cdf"
     "60f5d4564b8ba3f05a69890ad",
     "xprv9s21ZrQH143K2WFF16X85T2QCpndrGwx6GueB72Zf3AHwHJaknRXNF37ZmDrtHrrLSHvbuRejXcnYxoZKvRquTPyp2JiNG3XcjQ"
     "yzSEgqCB"},
    {"9e885d952ad362caeb4efe34a8e91bd2",
     "ozone drill grab fiber curtain grace pudding thank cruise elder eight picnic",
     "274ddc525802f7c828d8ef7ddbcdc5304e87ac3535913611fbbfa986d0c9e5476c91689f9c8a54fd55bd38606aa6a8595ad213d"
     "4c9c9f9aca3fb217069a41028",
     "xprv9s21ZrQH143K2oZ9stBYpoaZ2ktHj7jLz7iMqpgg1En8kKFTXJHsjxry1JbKH19YrDTicVwKPehFKTbmaxgVEc5TpHdS1aYhB2s"
     "9aFJBeJH"},
    {"6610b25967cdcca9d59875f5cb50b0ea75433311869e930b",
     "gravity machine north sort system female filter attitude volume fold club stay feature office ecology "
     "stable narrow fog",
     "628c3827a8823298ee685db84f55caa34b5cc195a778e52d45f59bcf75aba68e4d7590e101dc414bc1bbd5737666fbbef35d1f1"
     "903953b66624f910feef245ac",
     "xprv9s21ZrQH143K3uT8eQowUjsxrmsA9YUuQQK1RLqFufzybxD6DH6gPY7NjJ5G3EPHjsWDrs9iivSbmvjc9DQJbJGatfa9pv4MZ3w"
     "jr8qWPAK"},
    {"68a79eaca2324873eacc50cb9c6eca8cc68ea5d936f98787c60c7ebc74e6ce7c",
     "hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy gospel "
     "tennis maple dilemma loan word shrug inflict delay length",
     "64c87cde7e12ecf6704ab95bb1408bef047c22db4cc7491c4271d170a1b213d20b385bc1588d9c7b38f1b39d415665b8a9030c9"
     "ec653d75e65f847d8fc1fc440",
     "xprv9s21ZrQH143K2XTAhys3pMNcGn261Fi5Ta2Pw8PwaVPhg3D8DWkzWQwjTJfskj8ofb81i9NP2cUNKxwjueJHHMQAnxtivTA75uU"
     "FqPFeWzk"},
    {"c0ba5a8e914111210f2bd131f3d5e08d",
     "scheme spot photo card baby mountain device kick cradle pact join borrow",
     "ea725895aaae8d4c1cf682c1bfd2d358d52ed9f0f0591131b559e2724bb234fca05aa9c02c57407e04ee9dc3b454aa63fbff483"
     "a8b11de949624b9f1831a9612",
     "xprv9s21ZrQH143K3FperxDp8vFsFycKCRcJGAFmcV7umQmcnMZaLtZRt13QJDsoS5F6oYT6BB4sS6zmTmyQAEkJKxJ7yByDNtRe5as"
     "P2jFGhT6"},
    {"6d9be1ee6ebd27a258115aad99b7317b9c8d28b6d76431c3",
     "horn tenant knee talent sponsor spell gate clip pulse soap slush warm silver nephew swap uncle crack "
     "brave",
     "fd579828af3da1d32544ce4db5c73d53fc8acc4ddb1e3b251a31179cdb71e853c56d2fcb11aed39898ce6c34b10b5382772db87"
     "96e52837b54468aeb312cfc3d",
     "xprv9s21ZrQH143K3R1SfVZZLtVbXEB9ryVxmVtVMsMwmEyEvgXN6Q84LKkLRmf4ST6QrLeBm3jQsb9gx1uo23TS7vo3vAkZGZz71uu"
     "LCcywUkt"},
    {"9f6a2878b2520799a44ef18bc7df394e7061a224d2c33cd015b157d746869863",
     "panda eyebrow bullet gorilla call smoke muffin taste mesh discover soft ostrich alcohol speed nation "
     "flash devote level hobby quick inner drive ghost inside",
     "72be8e052fc4919d2adf28d5306b5474b0069df35b02303de8c1729c9538dbb6fc2d731d5f832193cd9fb6aeecbc469594a70e3"
     "dd50811b5067f3b88b28c3e8d",
     "xprv9s21ZrQH143K2WNnKmssvZYM96VAr47iHUQUTUyUXH3sAGNjhJANddnhw3i3y3pBbRAVk5M5qUGFr4rHbEWwXgX4qrvrceifCYQ"
     "JbbFDems"},
    {"23db8160a31d3e0dca3688ed941adbf3",
     "cat swing flag economy stadium alone churn speed unique patch report train",
     "deb5f45449e615feff5640f2e49f933ff51895de3b4381832b3139941c57b59205a42480c52175b6efcffaa58a2503887c1e8b3"
     "63a707256bdd2b587b46541f5",
     "xprv9s21ZrQH143K4G28omGMogEoYgDQuigBo8AFHAGDaJdqQ99QKMQ5J6fYTMfANTJy6xBmhvsNZ1CJzRZ64PWbnTFUn6CDV2FxoMD"
     "LXdk95DQ"},
    {"8197a4a47f0425faeaa69deebc05ca29c0a5b5cc76ceacc0",
     "light rule cinnamon wrap drastic word pride squirrel upgrade then income fatal apart sustain crack "
     "supply proud access",
     "4cbdff1ca2db800fd61cae72a57475fdc6bab03e441fd63f96dabd1f183ef5b782925f00105f318309a7e9c3ea6967c7801e46c"
     "8a58082674c860a37b93eda02",
     "xprv9s21ZrQH143K3wtsvY8L2aZyxkiWULZH4vyQE5XkHTXkmx8gHo6RUEfH3Jyr6NwkJhvano7Xb2o6UqFKWHVo5scE31SGDCAUsgV"
     "hiUuUDyh"},
    {"066dca1a2bb7e8a1db2832148ce9933eea0f3ac9548d793112d9a95c9407efad",
     "all hour make first leader extend hole alien behind guard gospel lava path output census museum junior "
     "mass reopen famous sing advance salt reform",
     "26e975ec644423f4a4c4f4215ef09b4bd7ef924e85d1d17c4cf3f136c2863cf6df0a475045652c57eb5fb41513ca2a2d67722b7"
     "7e954b4b3fc11f7590449191d",
     "xprv9s21ZrQH143K3rEfqSM4QZRVmiMuSWY9wugscmaCjYja3SbUD3KPEB1a7QXJoajyR2T1SiXU7rFVRXMV9XdYVSZe7JoUXdP4SRH"
     "TxsT1nzm"},
    {"f30f8c1da665478f49b001d94c5fc452",
     "vessel ladder alter error federal sibling chat ability sun glass valve picture",
     "2aaa9242daafcee6aa9d7269f17d4efe271e1b9a529178d7dc139cd18747090bf9d60295d0ce74309a78852a9caadf0af48aae1"
     "c6253839624076224374bc63f",
     "xprv9s21ZrQH143K2QWV9Wn8Vvs6jbqfF1YbTCdURQW9dLFKDovpKaKrqS3SEWsXCu6ZNky9PSAENg6c9AQYHcg4PjopRGGKmdD313Z"
     "Hszymnps"},
    {"c10ec20dc3cd9f652c7fac2f1230f7a3c828389a14392f05",
     "scissors invite lock maple supreme raw rapid void congress muscle digital elegant little brisk hair "
     "mango congress clump",
     "7b4a10be9d98e6cba265566db7f136718e1398c71cb581e1b2f464cac1ceedf4f3e274dc270003c670ad8d02c4558b2f8e39ede"
     "a2775c9e232c7cb798b069e88",
     "xprv9s21ZrQH143K4aERa2bq7559eMCCEs2QmmqVjUuzfy5eAeDX4mqZffkYwpzGQRE2YEEeLVRoH4CSHxianrFaVnMN2RYaPUZJhJx"
     "8S5j6puX"},
    {"f585c11aec520db57dd353c69554b21a89b20fb0650966fa0a9d6f74fd989d8f",
     "void come effort suffer camp survey warrior heavy shoot primary clutch crush open amazing screen "
     "patrol group space point ten exist slush involve unfold",
     "01f5bced59dec48e362f2c45b5de68b9fd6c92c6634f44d6d40aab69056506f0e35524a518034ddc1192e1dacd32c1ed3eaa3c3"
     "b131c88ed8e7e54c49a5d0998",
     "xprv9s21ZrQH143K39rnQJknpH1WEPFJrzmAqqasiDcVrNuk926oizzJDDQkdiTvNPr2FYDYzWgiMiC63YmfPAa2oPyNB23r2g7d1yi"
     "K6WpqaQS"},
};

/* BIP-32 test vectors 1 and 2: seed, then (path, xprv) pairs. */
typedef struct {
    const char *path, *xprv;
} path_xprv;
static const char *const BIP32_SEED1 = "000102030405060708090a0b0c0d0e0f";
static const path_xprv BIP32_V1[] = {
    {"m", "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJg"
          "k33yuGBxrMPHi"},
    {"m/0H", "xprv9uHRZZhk6KAJC1avXpDAp4MDc3sQKNxDiPvvkX8Br5ngLNv1TxvUxt4cV1rGL5hj6KCesnDYUhd7oWgT11eZG7XnxHr"
             "nYeSvkzY7d2bhkJ7"},
    {"m/0H/1", "xprv9wTYmMFdV23N2TdNG573QoEsfRrWKQgWeibmLntzniatZvR9BmLnvSxqu53Kw1UmYPxLgboyZQaXwTCg8MSY3H2EU"
               "4pWcQDnRnrVA1xe8fs"},
    {"m/0H/1/2H", "xprv9z4pot5VBttmtdRTWfWQmoH1taj2axGVzFqSb8C9xaxKymcFzXBDptWmT7FwuEzG3ryjH4ktypQSAewRiNMjAN"
                  "TtpgP4mLTj34bhnZX7UiM"},
    {"m/0H/1/2H/2", "xprvA2JDeKCSNNZky6uBCviVfJSKyQ1mDYahRjijr5idH2WwLsEd4Hsb2Tyh8RfQMuPh7f7RtyzTtdrbdqqsunu5"
                    "Mm3wDvUAKRHSC34sJ7in334"},
    {"m/0H/1/2H/2/1000000000", "xprvA41z7zogVVwxVSgdKUHDy1SKmdb533PjDz7J6N6mV6uS3ze1ai8FHa8kmHScGpWmj4WggLyQj"
                               "gPie1rFSruoUihUZREPSL39UNdE3BBDu76"},
};
static const char *const BIP32_SEED2 = "fffcf9f6f3f0edeae7e4e1dedbd8d5d2cfccc9c6c3c0bdbab7b4b1aeaba8a5a29f9c9"
                                       "99693908d8a8784817e7b7875726f6c696663605d5a5754514e4b484542";
static const path_xprv BIP32_V2[] = {
    {"m", "xprv9s21ZrQH143K31xYSDQpPDxsXRTUcvj2iNHm5NUtrGiGG5e2DtALGdso3pGz6ssrdK4PFmM8NSpSBHNqPqm55Qn3LqFtT2"
          "emdEXVYsCzC2U"},
    {"m/0", "xprv9vHkqa6EV4sPZHYqZznhT2NPtPCjKuDKGY38FBWLvgaDx45zo9WQRUT3dKYnjwih2yJD9mkrocEZXo1ex8G81dwSM1fw"
            "qWpWkeS3v86pgKt"},
    {"m/0/2147483647H", "xprv9wSp6B7kry3Vj9m1zSnLvN3xH8RdsPP1Mh7fAaR7aRLcQMKTR2vidYEeEg2mUCTAwCd6vnxVrcjfy2kR"
                        "gVsFawNzmjuHc2YmYRmagcEPdU9"},
    {"m/0/2147483647H/1", "xprv9zFnWC6h2cLgpmSA46vutJzBcfJ8yaJGg8cX1e5StJh45BBciYTRXSd25UEPVuesF9yog62tGAQtHj"
                          "XajPPdbRCHuWS6T8XA2ECKADdw4Ef"},
    {"m/0/2147483647H/1/2147483646H", "xprvA1RpRA33e1JQ7ifknakTFpgNXPmW2YvmhqLQYMmrj4xJXXWYpDPS3xz7iAxn8L39nj"
                                      "GVyuoseXzU6rcxFLJ8HFsTjSyQbLYnMpCqE2VbFWc"},
    {"m/0/2147483647H/1/2147483646H/2", "xprvA2nrNbFZABcdryreWet9Ea4LvTJcGsqrMzxHx98MMrotbir7yrKCEXw7nadnHM8D"
                                        "q38EGfSh6dqA9QWTyefMLEcBYJUuekgW4BYPJcr9E7j"},
};

/* Base58Check-decodes a 111-character xprv into its 78 bytes (test helper). */
static void xprv_decode(const char *s, uint8_t out[78]) {
    static const char *ALPHA = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    uint8_t b[82];
    memset(b, 0, sizeof b);
    for (const char *p = s; *p; p++) {
        const char *d = strchr(ALPHA, *p);
        assert_non_null(d);
        unsigned carry = (unsigned)(d - ALPHA);
        for (int j = 81; j >= 0; j--) {
            carry += 58u * b[j];
            b[j] = (uint8_t)carry;
            carry >>= 8;
        }
        assert_int_equal(carry, 0);
    }
    uint8_t h[32];
    wicas_sha256(b, 78, h);
    wicas_sha256(h, 32, h);
    assert_memory_equal(h, b + 78, 4);
    memcpy(out, b, 78);
}

/* The xprv fields of k must equal the serialised vector exactly. */
static void assert_xprv(const wicas_hd_key *k, const char *xprv) {
    uint8_t x[78];
    xprv_decode(xprv, x);
    static const uint8_t VER[4] = {0x04, 0x88, 0xad, 0xe4};
    assert_memory_equal(x, VER, 4);
    assert_int_equal(x[4], k->depth);
    assert_memory_equal(x + 5, k->parent_fingerprint, 4);
    uint32_t child = (uint32_t)x[9] << 24 | (uint32_t)x[10] << 16 | (uint32_t)x[11] << 8 | x[12];
    assert_int_equal(child, k->child_number);
    assert_memory_equal(x + 13, k->chain_code, 32);
    assert_int_equal(x[45], 0);
    assert_memory_equal(x + 46, k->secret, 32);
}

static void unhex(const char *h, uint8_t *out, size_t *n) {
    *n = strlen(h) / 2;
    assert_int_equal(wicas_hex_decode(h, out, *n), 0);
}

static void test_wordlist(void **st) {
    (void)st;
    wicas_sha256_ctx *c = wicas_sha256_begin();
    assert_non_null(c);
    for (int i = 0; i < 2048; i++) {
        if (i) assert_true(strcmp(wicas_bip39_english[i - 1], wicas_bip39_english[i]) < 0);
        wicas_sha256_update(c, wicas_bip39_english[i], strlen(wicas_bip39_english[i]));
        wicas_sha256_update(c, "\n", 1);
    }
    uint8_t h[32];
    wicas_sha256_final(c, h);
    char hex[65];
    wicas_hex_encode(h, 32, hex);
    assert_string_equal(hex, "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda");
}

static void test_bip39_vectors(void **st) {
    (void)st;
    size_t nv = sizeof BIP39_VECTORS / sizeof BIP39_VECTORS[0];
    assert_int_equal(nv, 24);
    for (size_t i = 0; i < nv; i++) {
        uint8_t ent[32], ent2[32], seed[64], want_seed[64];
        size_t el, el2, sl;
        char m[WICAS_BIP39_MAX_LEN], err[256];
        unhex(BIP39_VECTORS[i][0], ent, &el);
        assert_int_equal(wicas_bip39_from_entropy(ent, el, m, sizeof m, err, sizeof err), 0);
        assert_string_equal(m, BIP39_VECTORS[i][1]);
        assert_int_equal(wicas_bip39_normalize(BIP39_VECTORS[i][1], m, sizeof m, ent2, &el2, err, sizeof err),
                         0);
        assert_string_equal(m, BIP39_VECTORS[i][1]);
        assert_int_equal(el2, el);
        assert_memory_equal(ent2, ent, el);
        assert_int_equal(wicas_bip39_seed(BIP39_VECTORS[i][1], "TREZOR", seed, err, sizeof err), 0);
        unhex(BIP39_VECTORS[i][2], want_seed, &sl);
        assert_int_equal(sl, 64);
        assert_memory_equal(seed, want_seed, 64);
        wicas_hd_key k;
        assert_int_equal(wicas_hd_master(seed, 64, &k, err, sizeof err), 0);
        assert_xprv(&k, BIP39_VECTORS[i][3]);
    }
}

static void run_bip32(const char *seed_hex, const path_xprv *v, size_t n) {
    uint8_t seed[64];
    size_t sl;
    char err[256];
    unhex(seed_hex, seed, &sl);
    wicas_hd_key step;
    assert_int_equal(wicas_hd_master(seed, sl, &step, err, sizeof err), 0);
    for (size_t i = 0; i < n; i++) {
        wicas_hd_key k;
        assert_int_equal(wicas_hd_derive(seed, sl, v[i].path, &k, err, sizeof err), 0);
        assert_xprv(&k, v[i].xprv);
        /* the same key one child at a time */
        if (i) {
            uint32_t idx[WICAS_HD_MAX_DEPTH];
            size_t np;
            assert_int_equal(wicas_hd_parse_path(v[i].path, idx, WICAS_HD_MAX_DEPTH, &np, err, sizeof err),
                             0);
            assert_int_equal(np, i);
            assert_int_equal(wicas_hd_child(&step, idx[np - 1], &step, err, sizeof err), 0);
        }
        assert_memory_equal(&step.secret, k.secret, 32);
        assert_memory_equal(&step.chain_code, k.chain_code, 32);
    }
}

static void test_bip32_vector1(void **st) {
    (void)st;
    run_bip32(BIP32_SEED1, BIP32_V1, sizeof BIP32_V1 / sizeof BIP32_V1[0]);
}

static void test_bip32_vector2(void **st) {
    (void)st;
    run_bip32(BIP32_SEED2, BIP32_V2, sizeof BIP32_V2 / sizeof BIP32_V2[0]);
}

/* Mnemonic + path -> the pubkey and address CosmJS derived. */
static void test_cosmjs_addresses(void **st) {
    (void)st;
    const char *src = getenv("WICAS_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/chain/cosmjs/vector_mnemonic.json", src ? src : ".");
    size_t n;
    char *text = (char *)wicas_read_file(path, 1 << 20, &n);
    assert_non_null(text);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_true(cJSON_IsArray(j));
    assert_true(cJSON_GetArraySize(j) >= 6);
    const cJSON *e;
    cJSON_ArrayForEach(e, j) {
        const char *m = cJSON_GetObjectItem(e, "mnemonic")->valuestring;
        const char *hp = cJSON_GetObjectItem(e, "hd_path")->valuestring;
        const char *pkh = cJSON_GetObjectItem(e, "pubkey_hex")->valuestring;
        const char *wa = cJSON_GetObjectItem(e, "wicas_address")->valuestring;
        const char *ca = cJSON_GetObjectItem(e, "cosmos_address")->valuestring;
        uint8_t sk[32], pk[33], a20[20], ab[64];
        size_t al;
        char err[256], addr[100], pkhex[67];
        assert_int_equal(wicas_hd_secret_from_mnemonic(m, NULL, hp, sk, err, sizeof err), 0);
        assert_int_equal(wicas_chain_pubkey_from_secret(sk, pk), 0);
        wicas_hex_encode(pk, 33, pkhex);
        assert_string_equal(pkhex, pkh);
        wicas_chain_pubkey_address(pk, a20);
        assert_int_equal(wicas_chain_addr_encode(a20, 20, addr, sizeof addr), 0);
        assert_string_equal(addr, wa);
        /* the cosmos1 address carries the same 20 bytes */
        char hrp[16];
        assert_int_equal(wicas_bech32_decode(ca, hrp, sizeof hrp, ab, sizeof ab, &al), 0);
        assert_string_equal(hrp, "cosmos");
        assert_int_equal(al, 20);
        assert_memory_equal(ab, a20, 20);
    }
    cJSON_Delete(j);
}

#define ABANDON11 "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "

static void expect_bad(const char *mnemonic, const char *msg_part) {
    char out[WICAS_BIP39_MAX_LEN], err[256] = "";
    uint8_t seed[64];
    assert_int_equal(wicas_bip39_normalize(mnemonic, out, sizeof out, NULL, NULL, err, sizeof err),
                     WICAS_CHAIN_ERR_INVALID);
    if (!strstr(err, msg_part)) fail_msg("'%s': error '%s' lacks '%s'", mnemonic, err, msg_part);
    err[0] = 0;
    assert_int_equal(wicas_bip39_seed(mnemonic, "", seed, err, sizeof err), WICAS_CHAIN_ERR_INVALID);
    assert_non_null(strstr(err, msg_part));
}

static void test_bad_mnemonics(void **st) {
    (void)st;
    expect_bad(ABANDON11 "abandonx", "word 12 ('abandonx') is not in the BIP-39 English wordlist");
    expect_bad(ABANDON11 "abandon1", "word 12 ('abandon1') is not in");
    expect_bad(ABANDON11 "abandon", "invalid mnemonic checksum");
    expect_bad("legal winner thank year wave sausage worth useful legal winner yellow thank",
               "invalid mnemonic checksum");
    expect_bad(ABANDON11, "got 11");
    expect_bad(ABANDON11 "about about", "got 13");
    expect_bad(ABANDON11 ABANDON11 "abandon abandon art", "got 25");
    expect_bad("", "got 0");
    expect_bad(" \t\n ", "got 0");
    expect_bad(ABANDON11 "ab\xc3\xb3ut", "non-ASCII");
    expect_bad(ABANDON11 "aboutaboutaboutaboutabout", "is not in the BIP-39 English wordlist");
    char err[256];
    assert_int_equal(wicas_bip39_normalize(NULL, NULL, 0, NULL, NULL, err, sizeof err),
                     WICAS_CHAIN_ERR_INVALID);
}

static void test_canonical_form(void **st) {
    (void)st;
    const char *canon = ABANDON11 "about";
    char out[WICAS_BIP39_MAX_LEN], err[256];
    assert_int_equal(
        wicas_bip39_normalize("  ABANDON\tabandon abandon  abandon abandon abandon abandon abandon abandon "
                              "abandon Abandon\r\nAbout\n",
                              out, sizeof out, NULL, NULL, err, sizeof err),
        0);
    assert_string_equal(out, canon);
    uint8_t s1[64], s2[64];
    assert_int_equal(wicas_bip39_seed(canon, NULL, s1, err, sizeof err), 0);
    assert_int_equal(wicas_bip39_seed("\n" ABANDON11 "ABOUT  ", "", s2, err, sizeof err), 0);
    assert_memory_equal(s1, s2, 64);
    /* a passphrase changes the seed; a non-ASCII one is refused */
    assert_int_equal(wicas_bip39_seed(canon, "x", s2, err, sizeof err), 0);
    assert_memory_not_equal(s1, s2, 64);
    assert_int_equal(wicas_bip39_seed(canon, "p\xc3\xa4ss", s2, err, sizeof err), WICAS_CHAIN_ERR_INVALID);
    assert_non_null(strstr(err, "ASCII"));
    /* too small an output buffer is an error, not a truncation */
    assert_int_equal(wicas_bip39_normalize(canon, out, 10, NULL, NULL, err, sizeof err),
                     WICAS_CHAIN_ERR_INVALID);
    uint8_t ent[16] = {0};
    assert_int_equal(wicas_bip39_from_entropy(ent, 16, out, 20, err, sizeof err), WICAS_CHAIN_ERR_INVALID);
    assert_int_equal(wicas_bip39_from_entropy(ent, 15, out, sizeof out, err, sizeof err),
                     WICAS_CHAIN_ERR_INVALID);
    assert_int_equal(wicas_bip39_from_entropy(ent, 17, out, sizeof out, err, sizeof err),
                     WICAS_CHAIN_ERR_INVALID);
    assert_int_equal(wicas_bip39_from_entropy(ent, 36, out, sizeof out, err, sizeof err),
                     WICAS_CHAIN_ERR_INVALID);
}

static void test_generate(void **st) {
    (void)st;
    char a[WICAS_BIP39_MAX_LEN], b[WICAS_BIP39_MAX_LEN], c[WICAS_BIP39_MAX_LEN], err[256];
    for (size_t w = 12; w <= 24; w += 3) {
        assert_int_equal(wicas_bip39_generate(w, a, sizeof a, err, sizeof err), 0);
        size_t n = 1;
        for (const char *p = a; *p; p++)
            n += *p == ' ';
        assert_int_equal(n, w);
        uint8_t ent[32];
        size_t el;
        assert_int_equal(wicas_bip39_normalize(a, c, sizeof c, ent, &el, err, sizeof err), 0);
        assert_string_equal(a, c);
        assert_int_equal(el, w * 4 / 3);
    }
    assert_int_equal(wicas_bip39_generate(24, a, sizeof a, err, sizeof err), 0);
    assert_int_equal(wicas_bip39_generate(24, b, sizeof b, err, sizeof err), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(wicas_bip39_generate(13, a, sizeof a, err, sizeof err), WICAS_CHAIN_ERR_INVALID);
    assert_int_equal(wicas_bip39_generate(0, a, sizeof a, err, sizeof err), WICAS_CHAIN_ERR_INVALID);
}

static void test_paths(void **st) {
    (void)st;
    uint32_t idx[WICAS_HD_MAX_DEPTH];
    size_t n;
    char err[256];
    assert_int_equal(wicas_hd_parse_path(WICAS_HD_PATH_COSMOS, idx, WICAS_HD_MAX_DEPTH, &n, err, sizeof err),
                     0);
    assert_int_equal(n, 5);
    const uint32_t want[5] = {44 | WICAS_HD_HARDENED, 118 | WICAS_HD_HARDENED, WICAS_HD_HARDENED, 0, 0};
    assert_memory_equal(idx, want, sizeof want);
    assert_int_equal(wicas_hd_parse_path("m/44h/118H/0'/0/0", idx, WICAS_HD_MAX_DEPTH, &n, err, sizeof err),
                     0);
    assert_memory_equal(idx, want, sizeof want);
    assert_int_equal(wicas_hd_parse_path("m", idx, WICAS_HD_MAX_DEPTH, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(wicas_hd_parse_path("m/2147483647'", idx, WICAS_HD_MAX_DEPTH, &n, err, sizeof err), 0);
    assert_int_equal(idx[0], 0xffffffffu);
    const char *bad[] = {"",      "44'/118'/0'/0/0", "M/0",    "m/",   "m//0",
                         "m/0/",  "m/2147483648",    "m/-1",   "m/1x", "m/ 0",
                         "m/0''", "m/99999999999",   "m/0/1 ", "/m/0", "m0/1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        if (wicas_hd_parse_path(bad[i], idx, WICAS_HD_MAX_DEPTH, &n, err, sizeof err) !=
            WICAS_CHAIN_ERR_INVALID)
            fail_msg("path '%s' was accepted", bad[i]);
        assert_true(strlen(err) > 0);
    }
    char deep[400] = "m";
    for (int i = 0; i < WICAS_HD_MAX_DEPTH + 1; i++)
        strcat(deep, "/1");
    assert_int_equal(wicas_hd_parse_path(deep, idx, WICAS_HD_MAX_DEPTH, &n, err, sizeof err),
                     WICAS_CHAIN_ERR_INVALID);
    uint8_t sk[32];
    assert_int_equal(wicas_hd_secret_from_mnemonic(ABANDON11 "about", NULL, "m/44'/x", sk, err, sizeof err),
                     WICAS_CHAIN_ERR_INVALID);
    uint8_t seed[64] = {1};
    wicas_hd_key k;
    assert_int_equal(wicas_hd_master(seed, 15, &k, err, sizeof err), WICAS_CHAIN_ERR_INVALID);
    assert_int_equal(wicas_hd_master(seed, 65, &k, err, sizeof err), WICAS_CHAIN_ERR_INVALID);
}

/* keys export/import armor (keyring.c): round trip, wrong passphrase,
 * altered header or body, malformed text. */
static void test_armor(void **st) {
    (void)st;
    uint8_t sk[32], back[32];
    for (int i = 0; i < 32; i++)
        sk[i] = (uint8_t)(i + 1);
    char *a = NULL, err[256];
    assert_int_equal(wicas_chain_key_armor(sk, "export-pw", &a, err, sizeof err), 0);
    assert_non_null(strstr(a, "-----BEGIN WICAS PRIVATE KEY-----\n"));
    assert_non_null(strstr(a, "\nkdf: scrypt\n"));
    assert_int_equal(wicas_chain_key_unarmor(a, "export-pw", back, err, sizeof err), 0);
    assert_memory_equal(back, sk, 32);
    assert_int_equal(wicas_chain_key_unarmor(a, "wrong", back, err, sizeof err), WICAS_CHAIN_ERR_CRYPTO);
    /* one changed hex digit of the salt header, then of the nonce header */
    const char *hdrs[] = {"\nsalt: ", "\nnonce: "};
    for (int h = 0; h < 2; h++) {
        char *t = strdup(a);
        char *p = strstr(t, hdrs[h]) + strlen(hdrs[h]);
        *p = *p == '0' ? '1' : '0';
        assert_int_equal(wicas_chain_key_unarmor(t, "export-pw", back, err, sizeof err),
                         WICAS_CHAIN_ERR_CRYPTO);
        free(t);
    }
    char *t = strdup(a);
    char *body = strstr(t, "\n\n") + 2;
    body[3] = body[3] == 'A' ? 'B' : 'A';
    assert_int_not_equal(wicas_chain_key_unarmor(t, "export-pw", back, err, sizeof err), 0);
    free(t);
    t = strdup(a);
    char *ty = strstr(t, "type: secp256k1");
    memcpy(ty, "type: ed25519  ", 15);
    assert_int_equal(wicas_chain_key_unarmor(t, "export-pw", back, err, sizeof err), WICAS_CHAIN_ERR_INVALID);
    free(t);
    assert_int_equal(wicas_chain_key_unarmor("hello", "export-pw", back, err, sizeof err),
                     WICAS_CHAIN_ERR_INVALID);
    assert_int_equal(wicas_chain_key_unarmor("", "export-pw", back, err, sizeof err),
                     WICAS_CHAIN_ERR_INVALID);
    assert_int_equal(wicas_chain_key_armor(sk, "", &t, err, sizeof err), WICAS_CHAIN_ERR_INVALID);
    free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wordlist),
        cmocka_unit_test(test_bip39_vectors),
        cmocka_unit_test(test_bip32_vector1),
        cmocka_unit_test(test_bip32_vector2),
        cmocka_unit_test(test_cosmjs_addresses),
        cmocka_unit_test(test_bad_mnemonics),
        cmocka_unit_test(test_canonical_form),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_armor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
