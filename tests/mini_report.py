"""A few lines of the report as the PDF extract prints them, for tests that build small indexes."""

NAME = "mini-report.txt"
SIZE_AND_CAPACITY = [
    " 1发展概况",
    "1.1 办学规模",
    "2024 年，重庆市共有职业学校 171所，其中中等职业学校 126所，高等职业学校 45",
    "所，在校生规模稳步扩大。",
    "1.2 办学能力",
    "2024 年，重庆市建成市级公共实训基地 57个，职业学校基本办学条件总体达标率达",
    "88.5%，较上年提升 6.7%。",
]
