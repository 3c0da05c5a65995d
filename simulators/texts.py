"""Chinese case descriptions, addresses' street names and status notes for the simulators.

Some descriptions deliberately contain characters that must be escaped (``<``, ``&``, quotes): feed
text is untrusted and every consumer must show it as text.
"""

from __future__ import annotations

import random

XSS_DESCRIPTION = "小区公告栏被人贴了一张纸，上面写着<img src=x onerror=alert(1)>，请核实处理"

# {c}: community name, {s}: a spot in it, {n}: a number
DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "dispute.neighbour": (
        "{c}{s}两户邻居因楼上漏水问题发生争执，双方情绪激动，请求调解",
        "{c}{s}住户反映邻居长期在楼道堆放杂物并占用公共区域，多次沟通无果",
        "{c}居民因宅基地边界与邻居发生口角，担心矛盾升级",
        "{c}{s}楼上住户深夜拖动家具、跳绳，楼下老人无法休息，双方已发生争吵",
    ),
    "dispute.property": (
        "{c}{s}业主反映物业公司擅自上调物业费，且电梯长期故障无人维修",
        "{c}小区业主委员会与物业公司就停车位收费发生纠纷，业主聚集在物业办公室",
        "{c}{s}业主称物业“只收费不服务”，垃圾清运不及时，要求更换物业",
        "{c}小区物业撤场后无人管理，水电公摊费用分摊产生争议",
    ),
    "dispute.family": (
        "{c}{s}一对夫妻因家庭琐事多次争吵，女方请求社区介入调解",
        "{c}老人反映子女拒绝履行赡养义务，生活困难",
        "{c}{s}兄弟二人因父母房产分割发生纠纷，请求调解",
    ),
    "dispute.labour": (
        "{c}附近工地{n}名务工人员反映被拖欠工资近三个月，要求尽快支付",
        "{c}一家餐饮店员工反映离职后老板拒不结算工资",
        "{c}一家工厂工人反映未签订劳动合同、未缴纳社保",
    ),
    "dispute.land": (
        "{c}村民反映承包地被邻组村民占用种植，双方各执一词",
        "{c}两个村民小组因集体土地边界划分发生争议",
        "{c}村民对土地流转租金分配有异议，要求村委会公开账目",
    ),
    "city.street_vending": (
        "{c}{s}早晚高峰有流动摊贩占道经营水果，影响行人通行",
        "{c}农贸市场外沿街商户出店经营，人行道被占用",
        "{c}{s}夜宵摊占用人行道摆放桌椅，油烟和噪音扰民",
    ),
    "city.clutter": (
        "{c}{s}楼道内堆满纸箱、旧家具等杂物，存在安全隐患",
        "{c}路边长期堆放建筑垃圾，无人清运",
        "{c}{s}绿化带内被人乱堆乱放废旧物品",
    ),
    "city.manhole": (
        "{c}{s}人行道上一处井盖缺失，已有行人险些跌落，请尽快处理",
        "{c}路口井盖破损下陷，车辆经过时声响很大",
        "{c}{s}雨水井盖被盗，现场仅用树枝遮挡",
    ),
    "city.illegal_building": (
        "{c}{s}住户在楼顶违规搭建彩钢棚，面积约{n}平方米",
        "{c}有商户在临街空地私自搭建板房用于经营",
        "{c}{s}一楼住户私自扩建院墙，占用公共绿地",
    ),
    "safety.fire_lane": (
        "{c}{s}消防通道被私家车长期占用，消防车无法通行",
        "{c}小区消防通道被摆放的电动车和杂物堵塞",
        "{c}{s}楼道内电动车充电、飞线充电现象严重，堵塞疏散通道",
    ),
    "safety.gas": (
        "{c}{s}住户闻到明显燃气味道，疑似燃气管道泄漏，请紧急处理",
        "{c}一家餐馆使用的液化气罐无检验标识，存在安全隐患",
        "{c}{s}燃气表附近管道锈蚀严重，住户担心漏气",
    ),
    "safety.geohazard": (
        "{c}后山边坡出现裂缝，长约{n}米，下方有住户，担心雨季滑坡",
        "{c}村道一侧挡墙出现鼓胀变形，部分石块掉落",
        "{c}连续降雨后房屋后方出现小规模垮塌，请派人查看",
    ),
    "safety.dangerous_building": (
        "{c}{s}老旧房屋墙体开裂明显，屋内仍有老人居住",
        "{c}一栋土坯房屋顶局部垮塌，存在安全隐患",
        "{c}{s}阳台混凝土剥落、钢筋外露，楼下是人行通道",
    ),
    "public_order": (
        "{c}{s}夜间有人聚集饮酒喧哗，并有打架迹象",
        "{c}附近多辆电动车电瓶被盗，居民要求加强巡逻",
        "{c}{s}发现可疑人员多次在小区内徘徊、查看车辆",
        "{c}有人在街边以“免费领鸡蛋”为名推销保健品，疑似诈骗老年人",
    ),
    "environment.noise": (
        "{c}{s}附近工地夜间22点后仍在施工，噪声>70分贝，严重扰民",
        "{c}广场舞音响音量过大，持续到晚上十点",
        "{c}{s}楼下商铺使用高音喇叭循环播放促销广告",
    ),
    "environment.sewage": (
        "{c}{s}生活污水直排入河沟，水体发黑发臭",
        "{c}一家洗车店污水未经处理直接排入雨水管网",
        "{c}化粪池满溢，污水流到路面",
    ),
    "environment.garbage": (
        "{c}{s}垃圾桶满溢多日未清运，气味很大",
        "{c}路边有人焚烧垃圾，烟雾弥漫",
        "{c}{s}垃圾分类投放点管理混乱，可回收物与其他垃圾混放",
    ),
    "livelihood.relief": (
        "{c}一名独居老人患病无人照顾，家庭经济困难，申请临时救助",
        "{c}{s}居民因意外致残，失去收入来源，咨询低保办理",
        "{c}困难家庭子女上学费用无着落，请求帮扶",
    ),
    "livelihood.elderly": (
        "{c}居民反映社区养老服务站“A&B助餐点”饭菜价格上涨，希望恢复优惠",
        "{c}{s}八十岁独居老人行动不便，希望提供上门助浴、助洁服务",
        "{c}老人咨询高龄津贴申领流程",
    ),
    "livelihood.employment": (
        "{c}失业人员咨询就业培训和公益性岗位报名",
        "{c}返乡农民工希望社区提供就业信息",
        "{c}高校毕业生咨询灵活就业社保补贴政策",
    ),
    "public_health": (
        "{c}{s}发现多只死老鼠，担心卫生问题",
        "{c}居民反映附近诊所存在无证行医情况",
        "{c}{s}小区二次供水水箱长期未清洗，自来水有异味",
    ),
    "food_drug": (
        "{c}一家小吃店后厨卫生脏乱，从业人员未持健康证",
        "{c}{s}超市销售过期食品，消费者要求退赔",
        "{c}药店无处方销售处方药，价格标注<不清>",
    ),
}

SPOTS = (
    "1栋1单元",
    "2栋",
    "3栋2单元",
    "5栋楼下",
    "7栋3单元",
    "小区北门",
    "小区南门口",
    "菜市场旁",
    "幼儿园对面",
    "公交站附近",
    "商业街",
    "老街",
    "河堤步道",
    "停车场",
    "物业服务中心旁",
    "广场",
)

ROADS = (
    "龙城大道",
    "中兴路",
    "金龙大道",
    "巴川路",
    "营盘路",
    "民主路",
    "西郊路",
    "白龙大道",
    "玄天大道",
    "凤山路",
    "迎宾大道",
    "东门路",
    "南城路",
    "龙门街",
    "解放路",
    "文化街",
    "新华街",
    "建设路",
)

STATUS_NOTES = {
    "reported": "已登记，待受理",
    "accepted": "已受理，正在研判",
    "assigned": "已交办至承办单位",
    "in_progress": "承办单位正在处置",
    "resolved": "已办结，待回访",
    "closed": "已回访归档",
    "returned": "核查未通过，退回重办",
}

SATISFACTION_WORDS = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}


def description(category: str, community: str, rng: random.Random) -> str:
    templates = DESCRIPTIONS.get(category) or ("{c}{s}群众反映的问题，请核实处理",)
    return rng.choice(templates).format(c=community, s=rng.choice(SPOTS), n=rng.randint(3, 60))


def road_address(rng: random.Random) -> str:
    return f"{rng.choice(ROADS)}{rng.randint(1, 399)}号"
