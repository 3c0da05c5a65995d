from data.names import community_short_name, place_name

NAMES = {
    "500151": "铜梁区",
    "500151001": "巴川街道",
    "500151001001": "东方社区居民委员会",
    "500151001001001": "第7网格",
    "500151101": "土桥镇",
    "500151101201": "太白村村民委员会",
    "500151101201002": "太白村第2网格",
}


def test_committee_names_read_as_people_say_them() -> None:
    assert community_short_name("东方广场社区居民委员会") == "东方广场社区"
    assert community_short_name("太白村村民委员会") == "太白村"
    assert community_short_name("城南社区工作站") == "城南社区"
    assert community_short_name("村民委员会") == "村民委员会"  # nothing left: keep the name
    assert community_short_name("龙城天街") == "龙城天街"


def test_place_names_by_level() -> None:
    assert place_name("500151001001001", NAMES) == "东方社区 第7网格"
    assert place_name("500151101201002", NAMES) == "太白村第2网格"  # already carries its community
    assert place_name("500151101201", NAMES) == "太白村"
    assert place_name("500151001", NAMES) == "巴川街道"
    assert place_name("500151", NAMES) == "铜梁区"
    assert place_name("500151009", NAMES) == ""
    assert place_name(None, NAMES) == ""
    assert place_name("500151001001009", {"500151001001009": "第9网格"}) == "第9网格"  # community unknown
    names = {
        "500151001002": "琼江社区居民委员会",
        "500151001002007": "第7网格",
        "500151001003": "高楼村村民委员会",
    }
    assert place_name("500151001002007", names) == "琼江社区 第7网格"
    names["500151001003001"] = "第1网格"
    assert place_name("500151001003001", names) == "高楼村 第1网格"
